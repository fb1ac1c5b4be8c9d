"""Work sharing between nodes on one database: a lease on a source row, taken by one atomic conditional UPDATE
(works the same on SQLite and PostgreSQL), renewed while its holder polls, and expiring if the holder dies.

The UPDATE's WHERE carries both conditions, "due" (next_poll_at) and "free" (no live lease), so two nodes
that both saw the source due cannot both take it: PostgreSQL re-checks the WHERE against the row version the
first node committed, SQLite serializes writers. A node that finished a poll moves next_poll_at forward and
releases the lease in one transaction, so a late competitor finds the source no longer due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from monitor.store.tables import SourceRow

log = logging.getLogger(__name__)


def default_node_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Leases:
    node_id: str = field(default_factory=default_node_id)
    lease_s: float = 120.0  # renewed every lease_s/3 while polling, so a slow poll never loses it

    def _free(self, now: datetime) -> object:
        return or_(SourceRow.lease_owner.is_(None), SourceRow.lease_owner == self.node_id,
                   SourceRow.lease_until.is_(None), SourceRow.lease_until < now)

    async def acquire_source(self, session: AsyncSession, row: SourceRow, now: datetime, *,
                             due_only: bool = False, due_by: datetime | None = None) -> bool:
        """Take the source's lease; with due_only, only if next_poll_at has come by `due_by` (default now),
        checked in the same UPDATE."""
        conditions = [SourceRow.name == row.name, self._free(now)]
        if due_only:
            conditions.append(or_(SourceRow.next_poll_at.is_(None), SourceRow.next_poll_at <= (due_by or now)))
        result = await session.execute(
            update(SourceRow).where(and_(*conditions))  # type: ignore[arg-type]
            .values(lease_owner=self.node_id, lease_until=now + timedelta(seconds=self.lease_s))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def release_source(self, session: AsyncSession, row: SourceRow) -> None:
        await session.execute(
            update(SourceRow).where(SourceRow.name == row.name, SourceRow.lease_owner == self.node_id)
            .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False)
        )

    async def renew(self, sessions: async_sessionmaker[AsyncSession], name: str) -> bool:
        now = datetime.now(UTC)
        async with sessions() as session, session.begin():
            result = await session.execute(
                update(SourceRow).where(SourceRow.name == name, SourceRow.lease_owner == self.node_id)
                .values(lease_until=now + timedelta(seconds=self.lease_s))
                .execution_options(synchronize_session=False)
            )
        return bool(getattr(result, "rowcount", 0))

    async def _renew_loop(self, sessions: async_sessionmaker[AsyncSession], name: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                if not await self.renew(sessions, name):
                    log.warning("source=%s node=%s lease lost while polling", name, self.node_id)
                    return
            except Exception as exc:  # the database blinked: try again next round, the lease has slack
                log.warning("source=%s lease renewal failed error=%s", name, exc)

    @contextlib.asynccontextmanager
    async def holding(self, sessions: async_sessionmaker[AsyncSession], name: str) -> AsyncIterator[None]:
        """Keep a taken lease alive for the duration of the block; give it back if the block is cancelled
        (shutdown after the drain timeout), so another node need not wait for it to expire."""
        renewer = asyncio.create_task(self._renew_loop(sessions, name))
        try:
            yield
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                async with sessions() as session, session.begin():
                    await self.release_source(session, SourceRow(name=name))
            raise
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    @contextlib.asynccontextmanager
    async def keeping_claim(self, sessions: async_sessionmaker[AsyncSession], ids: list[int],
                            claim_s: float) -> AsyncIterator[None]:
        """Renew this node's claim on outbox rows while it sends them (a paced Telegram digest can outlast the
        claim): another node must not take them over as long as this one is alive and sending."""
        from monitor.store.tables import OutboxRow

        async def renew() -> None:
            while True:
                await asyncio.sleep(claim_s / 3)
                with contextlib.suppress(Exception):  # a blip: the claim has slack, try again next round
                    async with sessions() as session, session.begin():
                        await session.execute(
                            update(OutboxRow).where(OutboxRow.id.in_(ids), OutboxRow.lease_owner == self.node_id,
                                                    OutboxRow.status == "sending")
                            .values(lease_until=datetime.now(UTC) + timedelta(seconds=claim_s))
                            .execution_options(synchronize_session=False))

        renewer = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer


class SingletonLock:
    """One node of a cluster runs a singleton job: the Telegram bot (Telegram allows one getUpdates poller per
    token). On PostgreSQL, a session advisory lock held on a dedicated connection: it goes with the connection
    when its node dies, and the next node to ask takes it. SQLite means one host: always held."""

    def __init__(self, engine: AsyncEngine, key: int) -> None:
        self.engine = engine
        self.key = key
        self._conn: AsyncConnection | None = None

    async def held(self) -> bool:
        """Whether this node holds the lock now, taking it if it is free. Never raises."""
        if self.engine.dialect.name != "postgresql":
            return True
        try:
            if self._conn is not None:
                await self._conn.execute(text("SELECT 1"))  # still connected, so still ours
                return True
            conn = await self.engine.connect()
            await conn.execution_options(isolation_level="AUTOCOMMIT")  # never idle in a transaction
            if await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}):
                self._conn = conn
                return True
            await conn.close()
        except Exception as exc:
            log.warning("singleton lock %d: database error=%s", self.key, type(exc).__name__)
            await self.release()
        return False

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            with contextlib.suppress(Exception):
                await conn.close()
