"""A poll's new articles are placed into stories as one batch (stories.Batch): an article joins the story of
one listed before it in the same poll, and every row lands on the right item. Real pipeline, real HTTP server,
real database migrated by Alembic."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from monitor.pipeline import run_source
from monitor.store.tables import ItemRow, MatchRow, OutboxRow, ParagraphStoryRow, StoryRow
from tests.servers.pages import PageServer, Route
from tests.test_stories import DOCS, config, outbox, rss, story_of


def feed(pages: PageServer, *docs: tuple[str, str, str | None]) -> None:
    """One source "agg" listing (doc id, url, title or None for the doc's own) in this order."""
    pages.routes["/agg"] = Route(rss(*((title or DOCS[d].title, url, DOCS[d].paragraphs) for d, url, title in docs)))


async def test_one_poll_lists_the_article_its_rewrite_and_a_digest(pages: PageServer, runtime_factory: Any) -> None:
    feed(pages, ("mfa-slovenia-econ", "https://mfa/1", None), ("inf-slovenia-econ", "https://inform/1", None),
         ("digest-ktp-slovenia-econ", "https://kt/digest", None))
    rt = await runtime_factory(config(pages, "agg"))
    result = await run_source(rt, "agg", force=True)
    assert result.new_items == 3
    mfa_story = await story_of(rt, "https://mfa/1")
    assert await story_of(rt, "https://inform/1") == mfa_story
    assert await story_of(rt, "https://kt/digest") != mfa_story
    slovenia = [r for r in await outbox(rt) if r.rule == "slovenia" and r.story_id == mfa_story]
    assert len(slovenia) == 1, "one meeting, one Slovenia alert, though three items of one poll report it"
    async with rt.sessions() as session:
        links = list(await session.execute(
            select(ItemRow.url, ParagraphStoryRow.paragraph, ParagraphStoryRow.story_id)
            .join(ItemRow, ItemRow.id == ParagraphStoryRow.item_id)))
    digest = DOCS["digest-ktp-slovenia-econ"]
    assert ("https://kt/digest", next(i for i, e in digest.event.items() if e == "ev-slovenia-econ"),
            mfa_story) in links


async def test_two_new_stories_of_one_title_stay_apart(pages: PageServer, runtime_factory: Any) -> None:
    """Two unrelated articles under the same headline: two stories, and each match on its own item."""
    feed(pages, ("mfa-slovenia-econ", "https://mfa/1", "Новости МИД"), ("mfa-latvia", "https://mfa/2", "Новости МИД"))
    rt = await runtime_factory(config(pages, "agg"))
    assert (await run_source(rt, "agg", force=True)).new_items == 2
    first, second = await story_of(rt, "https://mfa/1"), await story_of(rt, "https://mfa/2")
    assert first is not None and second is not None and first != second
    async with rt.sessions() as session:
        titles = set(await session.scalars(select(StoryRow.title).where(StoryRow.id.in_([first, second]))))
        slovenia_urls = set(await session.scalars(
            select(ItemRow.url).join(MatchRow, MatchRow.item_id == ItemRow.id).where(MatchRow.rule == "slovenia")))
        alerts = list(await session.execute(select(OutboxRow.story_id, ItemRow.url)
                                            .join(ItemRow, ItemRow.id == OutboxRow.item_id)
                                            .where(OutboxRow.rule == "slovenia")))
    assert titles == {"Новости МИД"}
    assert slovenia_urls == {"https://mfa/1"}
    assert alerts == [(first, "https://mfa/1")]


async def test_the_same_url_twice_in_one_poll_is_two_versions_of_one_story(
        pages: PageServer, runtime_factory: Any) -> None:
    feed(pages, ("mfa-slovenia-econ", "https://mfa/1", None), ("mfa-latvia", "https://mfa/1", None))
    rt = await runtime_factory(config(pages, "agg"))
    assert (await run_source(rt, "agg", force=True)).new_items == 2
    async with rt.sessions() as session:
        rows = list(await session.execute(select(ItemRow.version, ItemRow.story_id, ItemRow.title)
                                          .where(ItemRow.url == "https://mfa/1").order_by(ItemRow.version)))
    assert [v for v, _, _ in rows] == [1, 2]
    assert rows[0][1] is not None and rows[0][1] == rows[1][1]
    assert rows[1][2] == DOCS["mfa-latvia"].title


@pytest.mark.parametrize("limit", ["BAND_CHUNK", "MAX_ARMS"])
async def test_a_poll_larger_than_one_band_query(pages: PageServer, runtime_factory: Any, monkeypatch: Any,
                                                 limit: str) -> None:
    """The band lookup is cut into queries of at most BAND_CHUNK band keys and MAX_ARMS articles: with either
    limit at one article, each article gets its own query, and the same stories are found as with one."""
    import monitor.stories
    from monitor.models import Entry
    from monitor.pipeline import to_article

    docs = ("mfa-latvia", "https://mfa/2", None), ("inf-slovenia-econ", "https://inform/1", None)
    bands = [monitor.stories._prepared(to_article("agg", Entry(url=u, title=DOCS[d].title,
                                                               paragraphs=DOCS[d].paragraphs)))[1] for d, u, _ in docs]
    monkeypatch.setattr(monitor.stories, limit, max(len(b) for b in bands) if limit == "BAND_CHUNK" else 1)
    earlier = ("mfa-slovenia-econ", "https://mfa/1", None), ("digest-ktp-slovenia-econ", "https://kt/digest", None)
    feed(pages, *earlier)
    rt = await runtime_factory(config(pages, "agg"))
    await run_source(rt, "agg", force=True)
    feed(pages, *earlier, *docs)  # Slovenia's rewrite second: its bands go in the second query
    assert (await run_source(rt, "agg", force=True)).new_items == 2
    mfa_story = await story_of(rt, "https://mfa/1")
    assert await story_of(rt, "https://inform/1") == mfa_story
    assert await story_of(rt, "https://mfa/2") not in (mfa_story, await story_of(rt, "https://kt/digest"))


def test_candidates_tied_on_shared_bands_come_newest_first() -> None:
    """decide() keeps the first of candidates scoring alike, so the order is part of the result: most shared
    bands first; on a tie this poll's articles (the latest first), then stored items, the latest first."""
    import numpy as np

    from monitor.models import Article
    from monitor.signatures import WHOLE, Unit
    from monitor.stories import Batch
    from monitor.story_decide import Candidate

    def unit(start: int) -> list[Unit]:
        return [Unit(WHOLE, np.arange(start, start + 20, dtype=np.uint32))]

    articles = [Article("s", f"u{i}", f"t{i}", ("p",), None, f"h{i}") for i in range(3)]
    prepared = [(unit(100 * i), {1, 2, 3}) for i in range(3)]
    stored = {item: Candidate(item, 1000 + item, unit(5000 + item)) for item in (5, 7, 9)}
    batch = Batch(articles, prepared, [{}, {}, {5: 3, 9: 3, 7: 4}], stored, threshold=0.55)
    batch.place(0, None)
    batch.place(1, None)
    assert [c.item_id for c in batch._candidates(2)] == [7, -2, -1, 9, 5]
