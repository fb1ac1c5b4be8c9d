"""Delivery through the outbox with a controllable clock: schedules, quiet hours, retries, crash recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel
from sqlalchemy import select

from monitor.digest import DELIVERY_LEASE_S, DeliveryResult, deliver_due, in_quiet_hours
from monitor.errors import DeliveryError
from monitor.models import Digest, Receipt
from monitor.pipeline import run_source
from monitor.store.tables import OutboxRow
from tests.servers.pages import PageServer, Route
from tests.test_pipeline import rss


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingChannel:
    """A channel that keeps what it was given; can be told to fail."""

    kind: ClassVar[str] = "recording"
    Config: ClassVar[type[BaseModel]] = BaseModel

    def __init__(self) -> None:
        self.sent: list[Digest] = []
        self.fail: DeliveryError | None = None

    async def send(self, digest: Digest) -> Receipt:
        if self.fail is not None:
            raise self.fail
        self.sent.append(digest)
        return Receipt(self.kind)


def config(pages: PageServer, recipient: str) -> str:
    return f"""
[[sources]]
name = "a"
kind = "rss"
url = "{pages.url('/a')}"

[[sources]]
name = "b"
kind = "rss"
url = "{pages.url('/b')}"

[[rules]]
name = "ОИС"
keyword = "ОИС"

[[rules]]
name = "Джидда"
regex = "Джидд"

[[recipients]]
console = true
{recipient}
"""


async def setup(pages: PageServer, runtime_factory: Any, recipient: str, now: datetime) -> tuple[Any, Clock]:
    pages.routes["/a"] = Route(rss(("Встреча в Джидде", "http://a/1", "<p>ОИС провела встречу в Джидде.</p>"),
                                   ("Другое", "http://a/2", "<p>Совещание ОИС.</p>")))
    pages.routes["/b"] = Route(rss())
    rt = await runtime_factory(config(pages, recipient))
    clock = Clock(now)
    rt.clock = clock
    assert (await run_source(rt, "a", force=True)).enqueued == 3  # 2 rules on item 1, 1 rule on item 2
    return rt, clock


async def test_immediate_digest_groups_rules_per_story(pages: PageServer, runtime_factory: Any) -> None:
    rt, _ = await setup(pages, runtime_factory, 'name = "desk"', datetime.now(UTC))
    channel = RecordingChannel()
    result = await deliver_due(rt, channel, rt.config.recipient("desk"))
    assert result == DeliveryResult("desk", sent=3)
    [digest] = channel.sent
    assert [(a.title, a.rules) for a in digest.alerts] == [("Встреча в Джидде", ("ОИС", "Джидда")),
                                                           ("Другое", ("ОИС",))]
    assert await deliver_due(rt, channel, rt.config.recipient("desk")) == DeliveryResult("desk")
    assert len(channel.sent) == 1


async def test_quiet_hours_hold_then_one_digest(pages: PageServer, runtime_factory: Any) -> None:
    # 23:00 in Almaty (UTC+5) is 18:00 UTC
    night = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
    rt, clock = await setup(pages, runtime_factory, 'name = "desk"\nquiet_hours = "22:00-07:00"', night)
    channel = RecordingChannel()
    assert (await deliver_due(rt, channel, rt.config.recipient("desk"))) == DeliveryResult("desk", held="quiet hours")
    clock.now = night + timedelta(hours=8, minutes=30)  # 07:30 local
    assert (await deliver_due(rt, channel, rt.config.recipient("desk"))) == DeliveryResult("desk", sent=3)
    assert len(channel.sent) == 1 and len(channel.sent[0].alerts) == 2


def test_quiet_hours_windows() -> None:
    at = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # 17:00 Almaty
    assert not in_quiet_hours("22:00-07:00", "Asia/Almaty", at)
    assert in_quiet_hours("22:00-07:00", "Asia/Almaty", at + timedelta(hours=6))
    assert in_quiet_hours("13:00-18:00", "Asia/Almaty", at)
    assert not in_quiet_hours(None, "Asia/Almaty", at)


async def test_cron_recipient_waits_for_its_schedule(pages: PageServer, runtime_factory: Any) -> None:
    rt, _ = await setup(pages, runtime_factory, 'name = "chief"\nschedule = "0 9 * * 1-5"', datetime.now(UTC))
    channel = RecordingChannel()
    chief = rt.config.recipient("chief")
    assert (await deliver_due(rt, channel, chief)).held == "not scheduled"  # type: ignore[union-attr]
    assert (await deliver_due(rt, channel, chief, scheduled=True)) == DeliveryResult("chief", sent=3)


async def test_transient_failure_retries_with_backoff(pages: PageServer, runtime_factory: Any) -> None:
    start = datetime.now(UTC)
    rt, clock = await setup(pages, runtime_factory, 'name = "desk"', start)
    channel = RecordingChannel()
    channel.fail = DeliveryError("connection refused", transient=True)
    desk = rt.config.recipient("desk")
    assert (await deliver_due(rt, channel, desk)) == DeliveryResult("desk", retrying=3)
    assert (await deliver_due(rt, channel, desk)) == DeliveryResult("desk")  # not due yet
    channel.fail = None
    clock.now = start + timedelta(seconds=6)
    assert (await deliver_due(rt, channel, desk)) == DeliveryResult("desk", sent=3)
    async with rt.sessions() as session:
        rows = list(await session.scalars(select(OutboxRow)))
    assert {r.status for r in rows} == {"delivered"} and all(r.attempts == 2 for r in rows)


async def test_permanent_failure_is_recorded(pages: PageServer, runtime_factory: Any) -> None:
    rt, _ = await setup(pages, runtime_factory, 'name = "desk"', datetime.now(UTC))
    channel = RecordingChannel()
    channel.fail = DeliveryError("Forbidden: bot was blocked by the user", transient=False)
    assert (await deliver_due(rt, channel, rt.config.recipient("desk"))) == DeliveryResult("desk", failed=3)
    async with rt.sessions() as session:
        rows = list(await session.scalars(select(OutboxRow)))
    assert {(r.status, r.last_error) for r in rows} == {("failed", "Forbidden: bot was blocked by the user")}


async def test_crash_between_send_and_mark_resends_once_with_same_key(pages: PageServer,
                                                                      runtime_factory: Any) -> None:
    start = datetime.now(UTC)
    rt, clock = await setup(pages, runtime_factory, 'name = "desk"', start)
    channel = RecordingChannel()

    class Crash(BaseException):
        pass

    class CrashingChannel(RecordingChannel):
        async def send(self, digest: Digest) -> Receipt:
            self.sent.append(digest)  # the message went out ...
            raise Crash  # ... and the process died before marking it

    crashing = CrashingChannel()
    desk = rt.config.recipient("desk")
    with pytest.raises(Crash):
        await deliver_due(rt, crashing, desk)
    assert (await deliver_due(rt, channel, desk)) == DeliveryResult("desk")  # lease still held
    clock.now = start + timedelta(seconds=DELIVERY_LEASE_S + 1)
    assert (await deliver_due(rt, channel, desk)) == DeliveryResult("desk", sent=3)
    assert channel.sent[0].key == crashing.sent[0].key  # same Message-ID: mail clients fold the duplicate
    assert (await deliver_due(rt, channel, desk)) == DeliveryResult("desk")
