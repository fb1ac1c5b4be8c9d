"""One-shot operations behind the CLI: once, status, digest preview, test-channel, backfill."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from monitor.channels import build_channel
from monitor.channels.console import ConsoleChannel
from monitor.config import Config
from monitor.digest import DeliveryResult, deliver_due, timezone_of
from monitor.errors import ConfigError, DeliveryError
from monitor.models import Alert, Digest
from monitor.pipeline import run_source
from monitor.rules import compile_rules
from monitor.runtime import build_runtime
from monitor.store.queries import enqueue, oldest_pending, outbox_counts
from monitor.store.tables import ItemRow, MatchRow, OutboxRow, SourceRow

STALE_AFTER = timedelta(days=2)  # a source that used to list items and lists none for this long is flagged


async def run_once(config: Config, *, dry_run: bool = False, only: str | None = None) -> int:
    rt = await build_runtime(config)
    try:
        names = [n for n in rt.sources if only is None or n == only]
        if only is not None and not names:
            raise ConfigError([f"no enabled source named {only!r}"])
        results = await asyncio.gather(*(run_source(rt, n, force=True) for n in names))
        for r in results:
            state = "ok" if r.ok else f"FAILED: {r.error}"
            print(f"{r.source}: {state}; entries={r.entries} new={r.new_items} matches={r.matches}")
        console = ConsoleChannel()
        for recipient in config.recipients:
            if dry_run:
                digest = await deliver_due(rt, console, recipient, preview=True)
                if isinstance(digest, Digest) and digest.alerts:
                    await console.send(digest)
            else:
                while True:
                    outcome = await deliver_due(rt, build_channel(recipient, config), recipient, scheduled=True)
                    if not isinstance(outcome, DeliveryResult) or outcome.sent < recipient.max_digest:
                        break
        return 1 if results and not any(r.ok for r in results) else 0
    finally:
        await rt.aclose()


def _ago(when: datetime | None, now: datetime, tz: str) -> str:
    if when is None:
        return "никогда"
    local = when.astimezone(ZoneInfo(tz)).strftime("%d.%m %H:%M")
    seconds = int((now - when).total_seconds())
    rel = f"через {-seconds // 60} мин" if seconds < 0 else (
        f"{seconds // 60} мин назад" if seconds < 7200 else f"{seconds // 3600} ч назад")
    return f"{local} ({rel})"


async def print_status(config: Config, *, clock: Callable[[], datetime] | None = None) -> int:
    rt = await build_runtime(config, clock=clock)
    tz = config.daemon.timezone
    try:
        now = rt.clock()
        async with rt.sessions() as session:
            rows = {r.name: r for r in await session.scalars(select(SourceRow))}
            recent = dict((await session.execute(
                select(ItemRow.source, func.count()).where(ItemRow.fetched_at >= now - timedelta(hours=24))
                .group_by(ItemRow.source))).all())
            backlog = await outbox_counts(session)
            failed = list(await session.scalars(
                select(OutboxRow).where(OutboxRow.status == "failed").order_by(OutboxRow.id.desc()).limit(10)))
            oldest = await oldest_pending(session)
        print("Источники / sources")
        for name in rt.sources:
            row = rows.get(name)
            if row is None:
                print(f"  {name}: ещё не опрашивался / never polled")
                continue
            flag = "OK" if not row.consecutive_failures else f"ОШИБКА ×{row.consecutive_failures}"
            if (row.last_items_seen == 0 and row.last_nonempty_at is not None
                    and now - row.last_nonempty_at > STALE_AFTER):
                flag += " · НЕТ МАТЕРИАЛОВ давно: проверьте селекторы (markup changed?)"
            print(f"  {name} [{flag}]")
            print(f"    последний успех: {_ago(row.last_success_at, now, tz)}; "
                  f"следующий опрос: {_ago(row.next_poll_at, now, tz)}; за 24 ч: {recent.get(name, 0)}; "
                  f"ошибок подряд: {row.consecutive_failures}; в ленте: {row.last_items_seen}")
            if row.last_error:
                print(f"    последняя ошибка ({_ago(row.last_error_at, now, tz)}): {row.last_error}")
        print("Очередь / outbox: " + (", ".join(f"{k}={v}" for k, v in sorted(backlog.items())) or "пусто"))
        if oldest is not None:
            print(f"  старейшее неотправленное: {_ago(oldest, now, tz)}")
        for failure in failed:
            print(f"  не доставлено: {failure.recipient} / {failure.rule}: {failure.last_error}")
    finally:
        await rt.aclose()
    return 0


async def preview_digest(config: Config, recipient_name: str) -> int:
    try:
        recipient = config.recipient(recipient_name)
    except KeyError:
        raise ConfigError([f"no recipient named {recipient_name!r}"]) from None
    rt = await build_runtime(config)
    try:
        digest = await deliver_due(rt, ConsoleChannel(), recipient, preview=True)
        assert isinstance(digest, Digest)
        if not digest.alerts:
            print(f"{recipient_name}: нет новых материалов / nothing pending")
        else:
            await ConsoleChannel().send(digest)
    finally:
        await rt.aclose()
    return 0


async def test_channel(config: Config, recipient_name: str) -> int:
    try:
        recipient = config.recipient(recipient_name)
    except KeyError:
        raise ConfigError([f"no recipient named {recipient_name!r}"]) from None
    alert = Alert(outbox_ids=(), story_id=0, item_id=0, title="Проверка канала monitor", url="https://example.org/",
                  source="monitor", published_at=None, rules=("test",),
                  snippet="Это тестовое сообщение: канал работает.", spans=((4, 13),))
    digest = Digest(recipient_name, (alert,), timezone_of(config, recipient), key="test-channel")
    try:
        await build_channel(recipient, config).send(digest)
    except DeliveryError as exc:
        print(f"{recipient_name}: not sent: {exc}")
        return 1
    print(f"{recipient_name}: test message sent")
    return 0



async def backfill(config: Config, rule_name: str, since_s: float) -> int:
    specs = [r for r in config.rules if r.name == rule_name]
    if not specs:
        raise ConfigError([f"no rule named {rule_name!r}"])
    matcher = compile_rules(specs)
    rt = await build_runtime(config)
    found = enqueued = 0
    try:
        now = rt.clock()
        recipients = rt.recipients_for(rule_name)
        async with rt.sessions() as session, session.begin():
            done = set(await session.scalars(select(MatchRow.item_id).where(MatchRow.rule == rule_name)))
            items = await session.stream_scalars(
                select(ItemRow).where(ItemRow.fetched_at >= now - timedelta(seconds=since_s)))
            async for item in items:
                matches = matcher.match(item.title, item.text.split("\n"), item.source)
                if not matches or item.id in done:
                    continue
                found += 1
                row = MatchRow(item_id=item.id, rule=rule_name, paragraph=matches[0].paragraph,
                               snippet=matches[0].snippet, spans=[list(s) for s in matches[0].spans])
                session.add(row)
                await session.flush()
                assert item.story_id is not None
                await enqueue(session, [{"recipient": r, "story_id": item.story_id, "rule": rule_name,
                                         "item_id": item.id, "match_id": row.id, "status": "pending",
                                         "created_at": now, "attempts": 0} for r in recipients])
                enqueued += len(recipients)
    finally:
        await rt.aclose()
    print(f"backfill {rule_name}: {found} stored items match; {enqueued} alerts queued for "
          f"{', '.join(recipients) or 'nobody (no recipient follows this rule)'}")
    return 0
