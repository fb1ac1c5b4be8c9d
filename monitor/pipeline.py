"""run_source(): the one place that knows the stage order. fetch → parse → extract → dedup → store → match →
enqueue. No exception escapes: a failing source is recorded with a capped backoff and tried again later."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.dedup import content_hash
from monitor.errors import FetchError, MonitorError
from monitor.models import Article, Entry, Match
from monitor.runtime import Runtime
from monitor.sources import SourceState
from monitor.store.queries import enqueue, in_keys, insert_ids, known_hashes, source_row
from monitor.store.tables import ItemRow, MatchRow, SourceRow, StoryRow

log = logging.getLogger(__name__)
DUE_SLACK_S = 30.0  # at most; see _due_slack
RECENT_URLS = 500  # stored URLs per source loaded before a poll, so known article pages are not refetched


@dataclass(frozen=True, slots=True)
class PollResult:
    source: str
    ok: bool
    entries: int = 0
    new_items: int = 0
    matches: int = 0
    enqueued: int = 0
    error: str | None = None
    skipped: bool = False  # not due yet (backoff) or polled by another node


def to_article(source: str, entry: Entry) -> Article:
    return Article(source=source, url=entry.url, title=entry.title, paragraphs=entry.paragraphs,
                   published_at=entry.published_at, content_hash=content_hash(entry.title, entry.paragraphs))


async def run_source(rt: Runtime, name: str, *, force: bool = False) -> PollResult:
    """Poll one source once, if it is due (or `force`). Never raises."""
    try:
        async with rt.poll_slots:
            return await _run_source(rt, name, force=force)
    except Exception as exc:  # the daemon must outlive any bug in one source
        log.exception("source=%s unexpected error", name)
        await _record_failure(rt, name, f"internal error: {type(exc).__name__}: {exc}", None)
        return PollResult(name, ok=False, error=str(exc))


async def _run_source(rt: Runtime, name: str, *, force: bool) -> PollResult:
    source = rt.sources.get(name)
    if source is None:  # removed by a reload after its job was already dispatched
        return PollResult(name, ok=True, skipped=True)
    now = rt.clock()
    async with rt.poll_writes, rt.sessions() as session, session.begin():
        row = await source_row(session, name)
        due_by = now + _due_slack(rt, name)
        if not force and row.next_poll_at is not None and row.next_poll_at > due_by:
            return PollResult(name, ok=True, skipped=True)
        # the due check is repeated inside the lease UPDATE: another node may have polled it meanwhile
        if not await rt.leases.acquire_source(session, row, now, due_only=not force, due_by=due_by):
            return PollResult(name, ok=True, skipped=True)
        # Article pages not fetched by 3/4 of the poll timeout wait for the next poll: what was fetched is kept.
        state = SourceState(etag=row.etag, last_modified=row.last_modified,
                            deadline=time.monotonic() + 0.75 * rt.poll_timeout_s)
        recent = await session.execute(
            select(ItemRow.url, ItemRow.title).where(ItemRow.source == name)
            .order_by(ItemRow.id.desc()).limit(RECENT_URLS)
        )
        for url, title in recent:
            state.known.setdefault(url, title)
    try:
        async with rt.leases.holding(rt.sessions, name):
            entries = await asyncio.wait_for(source.poll(rt.fetcher, state), rt.poll_timeout_s)
    except TimeoutError:
        return await _record_failure(rt, name, f"poll took longer than {rt.poll_timeout_s:g}s", None)
    except FetchError as exc:
        return await _record_failure(rt, name, str(exc), exc.retry_after_s)
    except MonitorError as exc:
        return await _record_failure(rt, name, str(exc), None)
    articles = list({a.content_hash: a for a in (to_article(name, e) for e in entries)}.values())
    for attempt in range(2):
        try:
            return await _store(rt, name, state, articles, len(entries), started=now)
        except IntegrityError:
            if attempt:  # another node stored the same content twice in a row: give up for this poll
                raise
            log.info("source=%s concurrent insert, retrying", name)
    raise AssertionError("unreachable")


async def _store(rt: Runtime, name: str, state: SourceState, articles: list[Article],
                 entry_count: int, *, started: datetime | None = None) -> PollResult:
    now = rt.clock()
    interval = _interval(rt, name)
    # Match before the write transaction: the matcher is CPU work, and SQLite has one writer at a time, so
    # matching while holding the write lock made every other poll wait (and time out, with 1,000 sources).
    matched: dict[str, list[Match]] = {}
    if articles:
        async with rt.sessions() as session:
            seen = await known_hashes(session, (a.content_hash for a in articles))
        matched = {a.content_hash: rt.matcher.match(a.title, a.paragraphs, name)
                   for a in articles if a.content_hash not in seen}
        rt.stories.prepare([a for a in articles if a.content_hash in matched])
    async with rt.poll_writes, rt.sessions() as session, session.begin():
        row = await source_row(session, name)
        seen = await known_hashes(session, matched)  # again: another poll may have stored some meanwhile
        fresh = [a for a in articles if a.content_hash in matched and a.content_hash not in seen]
        window_start = now - timedelta(seconds=rt.config.daemon.first_poll_window)
        items = await _insert_items(session, rt, fresh, now)
        found = [matched[a.content_hash] for a in fresh]
        match_count = sum(len(m) for m in found)
        alertable = [row.first_poll_done or a.published_at is None or a.published_at >= window_start for a in fresh]
        enqueued = await _record_matches(session, rt, items, found, alertable, now)
        row.etag, row.last_modified = state.etag, state.last_modified
        row.last_poll_at = row.last_success_at = now
        row.last_error = None
        row.consecutive_failures = 0
        # Cache-Control max-age: no sooner than the server allows, yet never later than the backoff cap.
        wait = max(interval, min(state.min_next_poll_s or 0.0, rt.config.daemon.max_backoff))
        # Counted from the start of this poll, as the scheduler counts its interval (see _due_slack).
        row.next_poll_at = (started or now) + timedelta(seconds=interval) if wait == interval \
            else now + timedelta(seconds=wait)
        row.first_poll_done = True
        # What the listing showed, known items included: zero for long on a source that used to list items
        # is flagged by `monitor status` (its markup probably changed). A 304 repeats the last listing.
        listed = state.listed if state.listed is not None else entry_count
        if not state.not_modified:
            row.last_items_seen = listed
        if (listed and not state.not_modified) or (state.not_modified and row.last_items_seen):
            row.last_nonempty_at = now
        await rt.leases.release_source(session, row)
    log.debug("source=%s polled node=%s entries=%d", name, rt.leases.node_id, entry_count)
    if fresh:
        log.info("source=%s new_items=%d matches=%d enqueued=%d", name, len(fresh), match_count, enqueued)
    rt.events.polled(name, ok=True, new_items=len(fresh), matches=match_count)
    return PollResult(name, ok=True, entries=entry_count, new_items=len(fresh), matches=match_count,
                      enqueued=enqueued)


@dataclass(frozen=True, slots=True)
class StoredItem:
    id: int
    story_id: int
    source: str
    url: str
    paragraph_story: dict[int, int]  # paragraph -> story, for paragraphs of another story than the item's


async def _insert_items(session: AsyncSession, rt: Runtime, articles: list[Article],
                        now: datetime) -> list[StoredItem]:
    """Insert a poll's new articles in a few statements for the whole poll: the previous versions of all their
    URLs, the story lookup (stories.py), the new stories, the items, the story index. An article can join the
    story of one placed just before it in the same poll. A new text at a known URL is a new version of that
    item, in the same story."""
    if not articles:
        return []
    urls = list(dict.fromkeys(a.url for a in articles))
    latest: dict[str, tuple[int, int | None]] = {}  # url -> (version, story id) of the newest stored version
    for url, version, story_id in await session.execute(
        select(ItemRow.url, ItemRow.version, ItemRow.story_id)
        .where(ItemRow.source == articles[0].source, in_keys(session, ItemRow.url, urls))
    ):
        if url not in latest or version > latest[url][0]:
            latest[url] = (version, story_id)
    batch = await rt.stories.lookup(session, articles, now)
    versions = []
    for i, article in enumerate(articles):
        previous = latest.get(article.url)
        story = batch.place(i, previous)
        versions.append(previous[0] + 1 if previous else 1)
        latest[article.url] = (versions[-1], story)  # the same URL twice in one poll: next version
    batch.resolve(await insert_ids(session, StoryRow, [{"created_at": now, "title": title}
                                                       for title in batch.new_titles], "title"))
    item_ids = await insert_ids(session, ItemRow, [
        {"source": a.source, "url": a.url, "title": a.title, "published_at": a.published_at, "fetched_at": now,
         "text": a.text, "content_hash": a.content_hash, "story_id": story, "version": version}
        for a, story, version in zip(articles, batch.final, versions, strict=True)], "content_hash")
    await rt.stories.remember(session, batch, item_ids)
    return [StoredItem(item_id, story, a.source, a.url, links)
            for item_id, story, a, links in zip(item_ids, batch.final, articles, batch.links, strict=True)]


async def _record_matches(session: AsyncSession, rt: Runtime, items: list[StoredItem], found: list[list[Match]],
                          alertable: list[bool], now: datetime) -> int:
    """Matches of a whole poll in one multi-row INSERT, then one INSERT ... ON CONFLICT DO NOTHING into the
    outbox."""
    values = [{"item_id": item.id, "rule": m.rule, "paragraph": m.paragraph, "snippet": m.snippet,
               "spans": [list(s) for s in m.spans]}
              for item, matches in zip(items, found, strict=True) for m in matches]
    if not values:
        return 0
    table = cast(Table, MatchRow.__table__)  # Core: the ORM's bulk insert makes a statement per set of Nones
    match_ids = {(item_id, rule, paragraph): match_id for match_id, item_id, rule, paragraph in await session.execute(
        insert(table).returning(table.c.id, table.c.item_id, table.c.rule, table.c.paragraph), values)}
    outbox = []
    for item, matches, ok in zip(items, found, alertable, strict=True):
        if not ok or not matches:
            continue
        # A match belongs to the story of its paragraph: the Slovenia paragraph of a digest is the Slovenia story.
        linked = item.paragraph_story
        first_per_story_rule: dict[tuple[int | None, str], Match] = {}
        for m in matches:
            story = linked.get(m.paragraph, item.story_id) if m.paragraph is not None else item.story_id
            first_per_story_rule.setdefault((story, m.rule), m)
        outbox += [
            {"recipient": recipient, "story_id": story, "rule": rule, "item_id": item.id,
             "match_id": match_ids[(item.id, rule, m.paragraph)], "status": "pending", "created_at": now,
             "attempts": 0}
            for (story, rule), m in first_per_story_rule.items()
            for recipient in rt.recipients_for(rule)
        ]
        for rule in dict.fromkeys(rule for _story, rule in first_per_story_rule):
            log.info("source=%s item=%d rule=%s recipients=%d url=%s", item.source, item.id, rule,
                     len(rt.recipients_for(rule)), item.url)
    await enqueue(session, outbox)
    return len(outbox)


async def _record_failure(rt: Runtime, name: str, message: str, retry_after_s: float | None) -> PollResult:
    now = rt.clock()
    interval = _interval(rt, name)
    async with rt.poll_writes, rt.sessions() as session, session.begin():
        row = await source_row(session, name)
        row.consecutive_failures += 1
        backoff = min(rt.config.daemon.max_backoff, interval * 2 ** min(row.consecutive_failures - 1, 20))
        if retry_after_s is not None:
            backoff = min(rt.config.daemon.max_backoff, max(backoff, retry_after_s))
        row.last_poll_at = row.last_error_at = now
        row.last_error = message[:2000]
        row.next_poll_at = now + timedelta(seconds=backoff)
        await rt.leases.release_source(session, row)
        failures = row.consecutive_failures
    log.warning("source=%s poll failed failures=%d retry_in=%ds error=%s", name, failures, backoff, message)
    rt.events.polled(name, ok=False)
    return PollResult(name, ok=False, error=message)


def _interval(rt: Runtime, name: str) -> float:
    """The source's interval; a hot reload may have removed the source while its poll was running."""
    cfg = rt.source_configs.get(name)
    return cfg.interval if cfg is not None else 600.0


def _due_slack(rt: Runtime, name: str) -> timedelta:
    """A source counts as due this much before its next_poll_at. The scheduler fires `interval` after the
    previous run's start while next_poll_at is counted from a moment a little later, so without slack every
    other run looked not yet due and was skipped (measured: alerts up to 2x the interval; bench_latency.py)."""
    return timedelta(seconds=min(_interval(rt, name) * 0.1, DUE_SLACK_S))


def utcnow() -> datetime:
    return datetime.now(UTC)


__all__ = ["PollResult", "SourceRow", "run_source", "to_article", "utcnow"]
