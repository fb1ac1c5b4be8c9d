"""One story, one alert: the MFA article, a kt.kz digest paragraph and a Kazinform rewrite of the same meeting,
through the real pipeline (real HTTP server, real database migrated by Alembic, real console channel)."""

from __future__ import annotations

import io
from html import escape
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.eval_stories import corpus
from monitor.channels.console import ConsoleChannel
from monitor.digest import DeliveryResult, deliver_due
from monitor.models import Digest
from monitor.pipeline import run_source
from monitor.store.tables import ItemRow, MatchRow, OutboxRow, ParagraphStoryRow
from tests.servers.pages import PageServer, Route

DOCS = {d.id: d for d in corpus()}


def rss(*docs: tuple[str, str, tuple[str, ...]]) -> bytes:
    """No pubDate: undated items alert even on a source's first poll."""
    items = "".join(
        f"<item><title>{escape(title)}</title><link>{url}</link><description><![CDATA["
        + "".join(f"<p>{escape(p)}</p>" for p in paragraphs) + "]]></description></item>"
        for title, url, paragraphs in docs
    )
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    return f"{head}{items}</channel></rss>".encode()


def serve(pages: PageServer, source: str, doc_id: str, url: str) -> None:
    doc = DOCS[doc_id]
    pages.routes["/" + source] = Route(rss((doc.title, url, doc.paragraphs)))


def config(pages: PageServer, *sources: str) -> str:
    blocks = "".join(f'[[sources]]\nname = "{s}"\nkind = "rss"\nurl = "{pages.url("/" + s)}"\n' for s in sources)
    return blocks + """
[[rules]]
name = "slovenia"
regex = "словени|словенск"

[[rules]]
name = "greece"
regex = "греци"

[[recipients]]
name = "desk"
console = true
"""


async def outbox(rt: Any) -> list[OutboxRow]:
    async with rt.sessions() as session:
        return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


async def story_of(rt: Any, url: str) -> int | None:
    async with rt.sessions() as session:
        return await session.scalar(select(ItemRow.story_id).where(ItemRow.url == url))


async def preview(rt: Any) -> Digest:
    digest = await deliver_due(rt, ConsoleChannel(io.StringIO()), rt.config.recipient("desk"), preview=True)
    assert isinstance(digest, Digest)
    return digest


async def test_three_sources_one_alert_with_also(pages: PageServer, runtime_factory: Any) -> None:
    serve(pages, "mfa", "mfa-slovenia-econ", "https://mfa/1")
    serve(pages, "kt", "digest-ktp-slovenia-econ", "https://kt/digest")
    serve(pages, "inform", "inf-slovenia-econ", "https://inform/1")
    rt = await runtime_factory(config(pages, "mfa", "kt", "inform"))
    assert (await run_source(rt, "mfa", force=True)).enqueued == 1
    kt = await run_source(rt, "kt", force=True)
    inform = await run_source(rt, "inform", force=True)
    assert inform.new_items == 1 and inform.enqueued == 1  # tried, but the unique key kept one row
    rows = await outbox(rt)
    mfa_story = await story_of(rt, "https://mfa/1")
    assert await story_of(rt, "https://inform/1") == mfa_story
    slovenia = [r for r in rows if r.rule == "slovenia" and r.story_id == mfa_story]
    assert len(slovenia) == 1, "one meeting, one Slovenia alert"
    # the digest also reports another Slovenia event (the ambassador meeting citizens, from kt-001): its own alert
    others = [r for r in rows if r.rule == "slovenia" and r.story_id != mfa_story]
    async with rt.sessions() as session:
        snippets = [await session.scalar(select(MatchRow.snippet).where(MatchRow.id == r.match_id)) for r in others]
    assert len(others) == 1 and "гражданами" in (snippets[0] or "")
    # the digest as a whole is a story of its own; only its Slovenia paragraph joined the MFA story
    assert await story_of(rt, "https://kt/digest") != mfa_story
    async with rt.sessions() as session:
        links = list(await session.execute(select(ParagraphStoryRow.paragraph, ParagraphStoryRow.story_id)))
    digest_doc = DOCS["digest-ktp-slovenia-econ"]
    slovenia_para = next(i for i, e in digest_doc.event.items() if e == "ev-slovenia-econ")
    assert (slovenia_para, mfa_story) in links
    # the digest's Greece paragraph is news of its own: alerted under the digest's story
    greece = [r for r in rows if r.rule == "greece"]
    assert kt.enqueued >= 1 and greece and all(r.story_id != mfa_story for r in greece)
    digest = await preview(rt)
    alert = next(a for a in digest.alerts if a.story_id == mfa_story)
    assert alert.source == "mfa" and alert.also == ("kt", "inform")
    assert "также: kt, inform" in _render(digest)


def _render(digest: Digest) -> str:
    stream = io.StringIO()
    from monitor.channels.console import format_alert

    for a in digest.alerts:
        stream.write(format_alert(a, digest.timezone) + "\n")
    return stream.getvalue()


async def test_after_delivery_later_sources_send_nothing(pages: PageServer, runtime_factory: Any) -> None:
    serve(pages, "mfa", "mfa-slovenia-econ", "https://mfa/1")
    serve(pages, "kt", "ktp-slovenia-econ", "https://kt/1")
    serve(pages, "inform", "copy-slovenia-econ", "https://inform/1")
    rt = await runtime_factory(config(pages, "mfa", "kt", "inform"))
    await run_source(rt, "mfa", force=True)
    stream = io.StringIO()
    sent = await deliver_due(rt, ConsoleChannel(stream), rt.config.recipient("desk"))
    assert isinstance(sent, DeliveryResult) and sent.sent == 1
    for name in ("kt", "inform"):
        assert (await run_source(rt, name, force=True)).new_items == 1
    again = await deliver_due(rt, ConsoleChannel(stream), rt.config.recipient("desk"))
    assert isinstance(again, DeliveryResult) and again.sent == 0
    assert stream.getvalue().count("▶") == 1


async def test_digest_first_then_the_original(pages: PageServer, runtime_factory: Any) -> None:
    """The agency polled before the ministry: the MFA article joins the story of the digest's paragraph."""
    serve(pages, "kt", "digest-ktp-slovenia-econ", "https://kt/digest")
    serve(pages, "mfa", "mfa-slovenia-econ", "https://mfa/1")
    rt = await runtime_factory(config(pages, "kt", "mfa"))
    await run_source(rt, "kt", force=True)
    before = [r for r in await outbox(rt) if r.rule == "slovenia"]
    await run_source(rt, "mfa", force=True)
    after = [r for r in await outbox(rt) if r.rule == "slovenia"]
    assert len(before) == 1 and [r.id for r in after] == [before[0].id]
    digest = await preview(rt)
    alert = next(a for a in digest.alerts if "slovenia" in a.rules)
    assert alert.also == ("mfa",)


async def test_same_ambassador_other_meeting_is_its_own_story(pages: PageServer, runtime_factory: Any) -> None:
    """kt-001 reports Abibullaev meeting Kazakh citizens in Slovenia: same ambassador, country, template
    phrases as the MFA Grašič meeting, another event. It must alert on its own."""
    serve(pages, "mfa", "mfa-slovenia-econ", "https://mfa/1")
    serve(pages, "kt", "kt-001", "https://kt/001")
    serve(pages, "neg", "neg-slovenia-minister", "https://neg/1")
    rt = await runtime_factory(config(pages, "mfa", "kt", "neg"))
    for name in ("mfa", "kt", "neg"):
        await run_source(rt, name, force=True)
    slovenia = [r for r in await outbox(rt) if r.rule == "slovenia"]
    assert len({r.story_id for r in slovenia}) == 3
    async with rt.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ParagraphStoryRow)) == 0


async def test_story_window_limits_how_far_back(pages: PageServer, runtime_factory: Any) -> None:
    from datetime import timedelta

    serve(pages, "mfa", "mfa-slovenia-econ", "https://mfa/1")
    serve(pages, "inform", "inf-slovenia-econ", "https://inform/1")
    rt = await runtime_factory(config(pages, "mfa", "inform") + '\n[dedup]\nstory_window = "1d"\n')
    start = rt.clock()
    rt.clock = lambda: start
    await run_source(rt, "mfa", force=True)
    rt.clock = lambda: start + timedelta(days=2)
    await run_source(rt, "inform", force=True)
    assert await story_of(rt, "https://inform/1") != await story_of(rt, "https://mfa/1")
    assert len([r for r in await outbox(rt) if r.rule == "slovenia"]) == 2


async def test_an_id_reused_after_a_rollback_is_not_matched_by_the_old_text(
        pages: PageServer, runtime_factory: Any, database_url: str) -> None:
    """SQLite gives a rolled-back item's id to the next item: the story index's cache must not compare new
    items with the text that id had before (it keeps the content hash and reads it back)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's sequences never give an id twice")
    from monitor.models import Entry
    from monitor.pipeline import _insert_items, to_article, utcnow

    rt = await runtime_factory(config(pages, "mfa"))
    slovenia, latvia = DOCS["mfa-slovenia-econ"], DOCS["mfa-latvia"]

    def article(doc: Any, url: str) -> Any:
        return to_article("mfa", Entry(url=url, title=doc.title, paragraphs=(*doc.paragraphs, url)))

    now = utcnow()
    try:
        async with rt.sessions() as session, session.begin():
            first = await _insert_items(session, rt, [article(slovenia, "http://x/1")], now)
            copy = await _insert_items(session, rt, [article(slovenia, "http://x/2")], now)  # caches item 1
            assert copy[0].story_id == first[0].story_id
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    # another writer (a second node, a `monitor` command) stores the next item: this index's cache still holds
    # the rolled-back text under that id
    other_rt = await runtime_factory(config(pages, "mfa"))
    async with other_rt.sessions() as session, session.begin():
        other = await _insert_items(session, other_rt, [article(latvia, "http://y/1")], now)
    assert other[0].id == first[0].id  # the id came round again
    async with rt.sessions() as session, session.begin():
        again = await _insert_items(session, rt, [article(latvia, "http://y/2")], now)
    assert again[0].story_id == other[0].story_id
