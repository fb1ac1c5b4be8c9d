"""Work sharing on both databases (SQLite always, PostgreSQL with MONITOR_TEST_POSTGRES): two runtimes on one
database are two nodes. A source is polled by one of them, a digest is sent by one of them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitor.channels.console import ConsoleChannel
from monitor.digest import DeliveryResult, deliver_due
from monitor.pipeline import run_source
from monitor.store.db import async_url
from monitor.store.tables import OutboxRow, SourceRow
from tests.servers.pages import PageServer, Route

RSS = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{}</channel></rss>')
ITEM = "<item><title>Т{0}</title><link>http://x/{0}</link><description>ОИС номер {0} {1}</description></item>"


def config(pages: PageServer) -> str:
    return f"""
[[sources]]
name = "a"
kind = "rss"
url = "{pages.url('/a')}"
interval = "1h"

[[rules]]
name = "oic"
keyword = "ОИС"

[[recipients]]
name = "desk"
console = true
"""


def test_database_urls_are_normalized() -> None:
    assert async_url("postgres://u@h:5432/d") == "postgresql+asyncpg://u@h:5432/d"
    assert async_url("postgresql+psycopg2://u:p@h/d") == "postgresql+asyncpg://u:p@h/d"
    assert async_url("postgresql+asyncpg://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert async_url("sqlite:////var/lib/monitor/monitor.db") == "sqlite+aiosqlite:////var/lib/monitor/monitor.db"


async def test_a_due_source_is_polled_by_one_node(pages: PageServer, runtime_factory: Any) -> None:
    pages.routes["/a"] = Route(RSS.format(ITEM.format(1, "x")).encode(), delay_s=0.3)
    node1 = await runtime_factory(config(pages))
    node2 = await runtime_factory(config(pages))
    assert node1.leases.node_id != node2.leases.node_id
    first, second = await asyncio.gather(run_source(node1, "a"), run_source(node2, "a"))
    assert sorted([first.skipped, second.skipped]) == [False, True]
    assert len([h for h in pages.hits if h.path == "/a"]) == 1


async def test_the_due_check_is_part_of_the_lease(pages: PageServer, runtime_factory: Any) -> None:
    """Node 2 read the source as due; node 1 polled it meanwhile. Node 2's lease attempt must now fail, although
    no lease is held any more (node 1 released it when it finished)."""
    pages.routes["/a"] = Route(RSS.format(ITEM.format(1, "x")).encode())
    node1 = await runtime_factory(config(pages))
    node2 = await runtime_factory(config(pages))
    async with node2.sessions() as session:
        stale = await session.get(SourceRow, "a")
    assert stale is not None and stale.next_poll_at is None  # due, as node 2 saw it
    assert not (await run_source(node1, "a")).skipped
    async with node2.sessions() as session, session.begin():
        assert not await node2.leases.acquire_source(session, stale, node2.clock(), due_only=True)
    async with node2.sessions() as session, session.begin():  # a forced poll (`monitor once`) may
        assert await node2.leases.acquire_source(session, stale, node2.clock())
    # an expired lease of a dead node is taken over
    async with node1.sessions() as session, session.begin():
        row = await session.get(SourceRow, "a")
        assert row is not None
        row.lease_owner, row.lease_until = "dead-node", node1.clock() - timedelta(seconds=1)
        row.next_poll_at = node1.clock() - timedelta(seconds=1)
    async with node2.sessions() as session, session.begin():
        assert await node2.leases.acquire_source(session, stale, node2.clock(), due_only=True)
    async with node1.sessions() as session, session.begin():  # ... but a live one is not
        assert not await node1.leases.acquire_source(session, stale, node1.clock(), due_only=True)


async def test_a_digest_is_sent_by_one_node(pages: PageServer, runtime_factory: Any) -> None:
    pages.routes["/a"] = Route(RSS.format("".join(ITEM.format(i, "y" * i) for i in range(1, 6))).encode())
    node1 = await runtime_factory(config(pages))
    node2 = await runtime_factory(config(pages))
    assert (await run_source(node1, "a")).enqueued == 5
    recipient = node1.config.recipient("desk")
    sent: list[Any] = []

    class Recording(ConsoleChannel):
        async def send(self, digest: Any) -> Any:
            await asyncio.sleep(0.05)  # a send takes time: the other node must not sneak in meanwhile
            sent.append(digest)
            return await super().send(digest)

    results = await asyncio.gather(*(deliver_due(node, Recording(), recipient) for node in (node1, node2, node1)))
    assert sum(r.sent for r in results if isinstance(r, DeliveryResult)) == 5
    assert sum(len(d.alerts) for d in sent) == 5
    async with node2.sessions() as session:
        statuses = list(await session.scalars(select(OutboxRow.status)))
    assert statuses == ["delivered"] * 5


async def test_one_node_runs_the_singleton(database_url: str) -> None:
    """The Telegram bot runs on one node: the lock is exclusive on PostgreSQL, and moves when its holder goes."""
    from monitor.leases import SingletonLock
    from monitor.store.db import make_engine

    engines = [make_engine(database_url) for _ in range(2)]
    first, second = (SingletonLock(e, 4242) for e in engines)
    try:
        assert await first.held() and await first.held()  # asking again keeps it
        if database_url.startswith("sqlite"):
            assert await second.held()  # one host: nothing to share
            return
        assert not await second.held()
        assert first._conn is not None
        await first._conn.invalidate()  # the holder's connection goes away (its node died)
        first._conn = None
        for _ in range(50):  # the server notices the closed connection and frees the lock
            if await second.held():
                break
            await asyncio.sleep(0.1)
        assert await second.held()
        assert not await first.held()
    finally:
        await first.release()
        await second.release()
        for e in engines:
            await e.dispose()


async def test_a_slow_send_keeps_its_claim(pages: PageServer, runtime_factory: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A send longer than the claim (a paced Telegram digest) is not taken over by another node meanwhile."""
    import monitor.digest

    monkeypatch.setattr(monitor.digest, "DELIVERY_LEASE_S", 0.6)
    pages.routes["/a"] = Route(RSS.format(ITEM.format(1, "z")).encode())
    node1 = await runtime_factory(config(pages))
    node2 = await runtime_factory(config(pages))
    assert (await run_source(node1, "a")).enqueued == 1
    recipient = node1.config.recipient("desk")
    sent: list[str] = []

    class Slow(ConsoleChannel):
        def __init__(self, name: str, delay_s: float) -> None:
            super().__init__()
            self.name, self.delay_s = name, delay_s

        async def send(self, digest: Any) -> Any:
            await asyncio.sleep(self.delay_s)
            sent.append(self.name)
            return await super().send(digest)

    async def second_node_later() -> Any:
        await asyncio.sleep(1.5)  # well past the 0.6 s claim: only renewal keeps node 1's rows its own
        return await deliver_due(node2, Slow("node2", 0), recipient)

    first, second = await asyncio.gather(deliver_due(node1, Slow("node1", 2.5), recipient), second_node_later())
    assert sent == ["node1"]
    assert isinstance(first, DeliveryResult) and first.sent == 1
    assert isinstance(second, DeliveryResult) and second.sent == 0
