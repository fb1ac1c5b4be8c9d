"""Retention through the real pipeline and database: old items go with their stories and finished alerts;
recent items, and old items whose alert is still pending, stay; pruning runs in batches beside polling."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from monitor.channels.console import ConsoleChannel
from monitor.digest import deliver_due
from monitor.pipeline import run_source
from monitor.prune import prune
from monitor.store.tables import ItemRow, MatchRow, OutboxRow, ParagraphStoryRow, StoryBandRow, StoryRow
from tests.servers.pages import PageServer, Route
from tests.test_stories import DOCS, rss


def config(pages: PageServer, *sources: str) -> str:
    blocks = "".join(f'[[sources]]\nname = "{s}"\nkind = "rss"\nurl = "{pages.url("/" + s)}"\n' for s in sources)
    return blocks + """
[[rules]]
name = "slovenia"
regex = "словени|словенск"

[[recipients]]
name = "desk"
console = true
"""


async def count(rt: Any, model: Any) -> int:
    async with rt.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_old_items_go_with_stories_and_finished_alerts(pages: PageServer, runtime_factory: Any) -> None:
    mfa, digest = DOCS["mfa-slovenia-econ"], DOCS["digest-ktp-slovenia-econ"]
    ljubljana = DOCS["mfa-ljubljana"]
    rt = await runtime_factory(config(pages, "old", "kt", "new"))
    now = datetime.now(UTC)
    rt.clock = lambda: now - timedelta(days=200)
    pages.routes["/old"] = Route(rss((mfa.title, "https://mfa/1", mfa.paragraphs)))
    pages.routes["/kt"] = Route(rss((digest.title, "https://kt/d", digest.paragraphs)))
    await run_source(rt, "old", force=True)
    await run_source(rt, "kt", force=True)
    await deliver_due(rt, ConsoleChannel(io.StringIO()), rt.config.recipient("desk"))  # all delivered
    rt.clock = lambda: now - timedelta(days=190)
    pages.routes["/old"] = Route(rss((ljubljana.title, "https://mfa/2", ljubljana.paragraphs)))
    await run_source(rt, "old", force=True)  # old, but its alert is still pending: kept
    rt.clock = lambda: now
    fresh = DOCS["neg-slovenia-minister"]
    pages.routes["/new"] = Route(rss(("Свежая новость", "https://new/1", fresh.paragraphs)))
    await run_source(rt, "new", force=True)
    assert await count(rt, ParagraphStoryRow) == 1 and await count(rt, StoryBandRow) > 0

    result = await prune(rt, batch=2)  # tiny batches: several transactions per step

    async with rt.sessions() as session:
        urls = set(await session.scalars(select(ItemRow.url)))
        statuses = list(await session.scalars(select(OutboxRow.status)))
        story_count = await session.scalar(select(func.count()).select_from(StoryRow))
    assert urls == {"https://mfa/2", "https://new/1"}
    assert statuses == ["pending", "pending"]
    assert story_count == 2 and result.items == 2 and result.stories >= 2 and result.outbox >= 2
    async with rt.sessions() as session:
        matched = set(await session.scalars(select(ItemRow.url).join(MatchRow, MatchRow.item_id == ItemRow.id)))
        orphan_matches = await session.scalar(select(func.count()).select_from(MatchRow).where(
            MatchRow.item_id.not_in(select(ItemRow.id))))
    assert await count(rt, ParagraphStoryRow) == 0 and matched == urls and orphan_matches == 0
    # signatures are kept only for the story window (3 days): the 190-day-old item has none left
    async with rt.sessions() as session:
        banded = set(await session.scalars(select(StoryBandRow.item_id).distinct()))
        new_id = await session.scalar(select(ItemRow.id).where(ItemRow.url == "https://new/1"))
    assert banded == {new_id}
    assert result.batches > 3
    again = await prune(rt)
    assert (again.items, again.stories, again.outbox) == (0, 0, 0)


async def test_prune_runs_beside_polling(pages: PageServer, runtime_factory: Any) -> None:
    rt = await runtime_factory(config(pages, "src"))
    old = datetime.now(UTC) - timedelta(days=365)
    async with rt.sessions() as session, session.begin():
        await session.execute(insert(StoryRow), [{"created_at": old, "title": "t"} for _ in range(2500)])
        story_ids = list(await session.scalars(select(StoryRow.id).order_by(StoryRow.id)))
        await session.execute(insert(ItemRow), [
            {"source": "src", "url": f"https://x/{i}", "title": "t", "fetched_at": old, "text": "x",
             "content_hash": f"{i:064d}", "story_id": story_id, "version": 1} for i, story_id in enumerate(story_ids)
        ])
    mfa = DOCS["mfa-slovenia-econ"]
    pages.routes["/src"] = Route(rss((mfa.title, "https://mfa/1", mfa.paragraphs)))
    pruned, polled = await asyncio.gather(prune(rt, batch=500), run_source(rt, "src", force=True))
    assert polled.ok and polled.new_items == 1 and polled.enqueued == 1
    assert pruned.items == 2500 and pruned.stories == 2500
    assert await count(rt, ItemRow) == 1
