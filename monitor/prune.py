"""Retention: items older than `[daemon] retention` go, with their matches, signatures, paragraph links and
delivered/failed outbox rows, then the stories nothing refers to any more. Band rows older than the story
window go too (they are never candidates again).

Runs daily beside polling: every step deletes at most BATCH rows per transaction and yields to the event
loop between batches, so a poll waits at most one short transaction for the database (SQLite has one writer).
Items with an alert still pending or being sent are kept until it is delivered or failed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.runtime import Runtime
from monitor.store.tables import ItemRow, OutboxRow, ParagraphStoryRow, StoryRow

log = logging.getLogger(__name__)
BATCH = 1000


@dataclass(frozen=True, slots=True)
class PruneResult:
    items: int = 0
    stories: int = 0
    outbox: int = 0
    bands: int = 0
    batches: int = 0


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _old_items(session: AsyncSession, cutoff: datetime, batch: int) -> list[int]:
    unfinished = exists().where(OutboxRow.item_id == ItemRow.id, OutboxRow.status.in_(("pending", "sending")))
    rows = await session.scalars(
        select(ItemRow.id).where(ItemRow.fetched_at < cutoff, ~unfinished).order_by(ItemRow.id).limit(batch)
    )
    return list(rows)


async def _orphan_stories(session: AsyncSession, cutoff: datetime, batch: int) -> list[int]:
    referenced = [
        exists().where(ItemRow.story_id == StoryRow.id),
        exists().where(ParagraphStoryRow.story_id == StoryRow.id),
        exists().where(OutboxRow.story_id == StoryRow.id),
    ]
    rows = await session.scalars(
        select(StoryRow.id).where(and_(StoryRow.created_at < cutoff, *(~r for r in referenced)))
        .order_by(StoryRow.id).limit(batch)
    )
    return list(rows)


async def prune(rt: Runtime, *, now: datetime | None = None, batch: int = BATCH) -> PruneResult:
    now = now or rt.clock()
    cutoff = now - timedelta(seconds=rt.config.daemon.retention)
    items = stories = outbox = bands = batches = 0
    while True:  # signatures outside the story window
        async with rt.sessions() as session, session.begin():
            deleted = await rt.stories.prune_bands(session, now, batch)
        bands += deleted
        batches += 1
        await asyncio.sleep(0)
        if deleted == 0:
            break
    while True:  # old items, with what hangs on them
        async with rt.sessions() as session, session.begin():
            ids = await _old_items(session, cutoff, batch)
            if ids:
                outbox += _count(await session.execute(delete(OutboxRow).where(OutboxRow.item_id.in_(ids))))
                items += _count(await session.execute(delete(ItemRow).where(ItemRow.id.in_(ids))))
        batches += 1
        await asyncio.sleep(0)
        if len(ids) < batch:
            break
    while True:  # stories no item, paragraph or alert refers to any more
        async with rt.sessions() as session, session.begin():
            ids = await _orphan_stories(session, cutoff, batch)
            if ids:
                stories += _count(await session.execute(delete(StoryRow).where(StoryRow.id.in_(ids))))
        batches += 1
        await asyncio.sleep(0)
        if len(ids) < batch:
            break
    result = PruneResult(items=items, stories=stories, outbox=outbox, bands=bands, batches=batches)
    log.info("prune: items=%d stories=%d outbox=%d bands=%d batches=%d", items, stories, outbox, bands, batches)
    return result
