"""The Alembic revisions build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from monitor.store.db import make_engine, upgrade
from monitor.store.tables import Base


async def test_migrations_match_the_models(database_url: str) -> None:
    await upgrade(database_url)
    await upgrade(database_url)  # idempotent: a second node (or a restart) finds nothing to do
    engine = make_engine(database_url)

    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
