"""Work sharing between nodes on one database: a lease on a source row, taken by an atomic conditional UPDATE
(works the same on SQLite and PostgreSQL) and expiring if its holder dies."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.tables import SourceRow


def default_node_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Leases:
    node_id: str = field(default_factory=default_node_id)
    lease_s: float = 300.0  # longer than the poll timeout, so a live poll never loses its lease

    async def acquire_source(self, session: AsyncSession, row: SourceRow, now: datetime) -> bool:
        result = await session.execute(
            update(SourceRow)
            .where(SourceRow.name == row.name)
            .where(or_(SourceRow.lease_owner.is_(None), SourceRow.lease_owner == self.node_id,
                       SourceRow.lease_until < now))
            .values(lease_owner=self.node_id, lease_until=now + timedelta(seconds=self.lease_s))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def release_source(self, session: AsyncSession, row: SourceRow) -> None:
        await session.execute(
            update(SourceRow).where(SourceRow.name == row.name, SourceRow.lease_owner == self.node_id)
            .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False)
        )
