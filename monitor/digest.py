"""Delivery: due outbox rows → one Digest per recipient → channel.send → rows marked delivered.

Exactly once, as far as a channel allows: rows are claimed (status `sending`, a digest key, a lease) and
committed before the send, and marked `delivered` after it. A crash between the two leaves rows in `sending`;
once their lease expires they are sent again with the same digest key (at most one duplicate per crash).
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update

from monitor.channels import Channel
from monitor.config import Config, RecipientConfig
from monitor.errors import DeliveryError
from monitor.models import Alert, Digest
from monitor.runtime import Runtime
from monitor.store.tables import ItemRow, MatchRow, OutboxRow, ParagraphStoryRow, RecipientRow

log = logging.getLogger(__name__)
DELIVERY_LEASE_S = 60.0  # default of [daemon] delivery_lease
MAX_RETRY_S = 3600.0


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    recipient: str
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    held: str | None = None  # why nothing was sent: "quiet hours", "muted", "not scheduled"


def in_quiet_hours(spec: str | None, tz: str, now: datetime) -> bool:
    if not spec:
        return False
    start_s, end_s = spec.split("-")
    start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
    local = now.astimezone(ZoneInfo(tz)).time()
    return start <= local < end if start <= end else (local >= start or local < end)


def timezone_of(config: Config, recipient: RecipientConfig) -> str:
    return recipient.timezone or config.daemon.timezone


def digest_key(recipient: str, ids: list[int]) -> str:
    return hashlib.sha256(f"{recipient}:{','.join(map(str, sorted(ids)))}".encode()).hexdigest()[:32]


async def deliver_due(rt: Runtime, channel: Channel, recipient: RecipientConfig, *,
                      scheduled: bool = False, preview: bool = False) -> DeliveryResult | Digest:
    """Send what is due for one recipient. With preview, return the Digest and change nothing."""
    now = rt.clock()
    tz = timezone_of(rt.config, recipient)
    async with rt.sessions() as session:
        state = await session.get(RecipientRow, recipient.name)
        if not preview:
            if state is not None and state.muted_until is not None and state.muted_until > now:
                return DeliveryResult(recipient.name, held="muted")
            if in_quiet_hours(recipient.quiet_hours, tz, now):
                return DeliveryResult(recipient.name, held="quiet hours")
            if recipient.schedule != "immediate" and not scheduled:
                return DeliveryResult(recipient.name, held="not scheduled")
    lease_expired = or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now)
    due = or_(
        and_(OutboxRow.status == "pending",
             or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now)),
        and_(OutboxRow.status == "sending", lease_expired),
    )
    async with rt.sessions() as session, session.begin():
        rows = list(await session.scalars(
            select(OutboxRow).where(OutboxRow.recipient == recipient.name, due)
            .order_by(OutboxRow.created_at, OutboxRow.id).limit(recipient.max_digest)
        ))
        if not rows:
            return Digest(recipient.name, (), tz) if preview else DeliveryResult(recipient.name)
        ids = [r.id for r in rows]
        resend = [r for r in rows if r.status == "sending" and r.digest_key]
        key = resend[0].digest_key if resend and len(resend) == len(rows) else digest_key(recipient.name, ids)
        assert key is not None
        digest = await _build_digest(session, rt, recipient.name, tz, key, rows)
        if preview:
            return digest
        claimed = await session.execute(
            update(OutboxRow).where(OutboxRow.id.in_(ids), due)
            .values(status="sending", digest_key=key, lease_owner=rt.leases.node_id,
                    lease_until=now + timedelta(seconds=rt.config.daemon.delivery_lease))
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != len(ids):
            await session.rollback()  # another node claimed some of them first; it delivers them
            return DeliveryResult(recipient.name, held="claimed by another node")
    return await _send_and_mark(rt, channel, digest, ids, rows)


async def _send_and_mark(rt: Runtime, channel: Channel, digest: Digest, ids: list[int],
                         rows: list[OutboxRow]) -> DeliveryResult:
    name = digest.recipient
    try:
        async with rt.leases.keeping_claim(rt.sessions, ids, DELIVERY_LEASE_S):
            await channel.send(digest)
    except DeliveryError as exc:
        now = rt.clock()
        attempts = max(r.attempts for r in rows) + 1
        async with rt.sessions() as session, session.begin():
            if exc.transient:
                wait = min(MAX_RETRY_S, max(exc.retry_after_s or 0.0, 5.0 * 2 ** min(attempts - 1, 12)))
                values: dict[str, object] = {"status": "pending", "next_attempt_at": now + timedelta(seconds=wait)}
            else:
                values = {"status": "failed"}
            await session.execute(
                update(OutboxRow).where(OutboxRow.id.in_(ids))
                .values(attempts=OutboxRow.attempts + 1, last_error=str(exc)[:2000], lease_owner=None,
                        lease_until=None, **values)
            )
        rt.events.delivered(channel.kind, ok=False, count=len(ids))
        log.warning("recipient=%s channel=%s delivery failed transient=%s error=%s",
                    name, channel.kind, exc.transient, exc)
        if exc.transient:
            return DeliveryResult(name, retrying=len(ids))
        return DeliveryResult(name, failed=len(ids))
    now = rt.clock()
    async with rt.sessions() as session, session.begin():
        await session.execute(
            update(OutboxRow).where(OutboxRow.id.in_(ids))
            .values(status="delivered", delivered_at=now, lease_owner=None, lease_until=None,
                    attempts=OutboxRow.attempts + 1)
        )
        await session.execute(update(RecipientRow).where(RecipientRow.name == name).values(last_digest_at=now))
    rt.events.delivered(channel.kind, ok=True, count=len(ids))
    log.info("recipient=%s channel=%s delivered alerts=%d", name, channel.kind, len(digest.alerts))
    return DeliveryResult(name, sent=len(ids))


async def _build_digest(session: object, rt: Runtime, recipient: str, tz: str, key: str,
                        rows: list[OutboxRow]) -> Digest:
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    item_ids = {r.item_id for r in rows}
    items = {i.id: i for i in await session.scalars(select(ItemRow).where(ItemRow.id.in_(item_ids)))}
    match_ids = {r.match_id for r in rows if r.match_id is not None}
    matches = {m.id: m for m in await session.scalars(select(MatchRow).where(MatchRow.id.in_(match_ids)))}
    story_ids = {r.story_id for r in rows}
    sources_by_story: dict[int, list[str]] = {}
    carriers = list(await session.execute(
        select(ItemRow.id, ItemRow.story_id, ItemRow.source).where(ItemRow.story_id.in_(story_ids))
    ))
    carriers += await session.execute(  # a digest whose paragraph carries the story counts too
        select(ItemRow.id, ParagraphStoryRow.story_id, ItemRow.source)
        .join(ItemRow, ItemRow.id == ParagraphStoryRow.item_id).where(ParagraphStoryRow.story_id.in_(story_ids))
    )
    for _item_id, story_id, source in sorted(carriers, key=lambda c: c[0]):  # in the order they came
        if story_id is not None and source not in sources_by_story.setdefault(story_id, []):
            sources_by_story[story_id].append(source)
    grouped: OrderedDict[int, list[OutboxRow]] = OrderedDict()
    for r in rows:
        grouped.setdefault(r.story_id, []).append(r)
    alerts = []
    for story_id, story_rows in grouped.items():
        item = items[story_rows[0].item_id]
        match = next((matches[r.match_id] for r in story_rows if r.match_id in matches), None)
        alerts.append(Alert(
            outbox_ids=tuple(r.id for r in story_rows), story_id=story_id, item_id=item.id, title=item.title,
            url=item.url, source=item.source, published_at=item.published_at,
            rules=tuple(dict.fromkeys(r.rule for r in story_rows)),
            snippet=match.snippet if match else item.text[:500],
            spans=tuple((s[0], s[1]) for s in match.spans) if match else (),
            also=tuple(s for s in sources_by_story.get(story_id, []) if s != item.source),
        ))
    return Digest(recipient=recipient, alerts=tuple(alerts), timezone=tz, key=key)
