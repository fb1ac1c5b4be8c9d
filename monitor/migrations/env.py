"""Alembic environment: async engines (aiosqlite / asyncpg); URL passed in by monitor.store.db.upgrade."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from monitor.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _transactional_sqlite_ddl(engine: AsyncEngine) -> None:
    """SQLite can roll DDL back, but the sqlite3 driver issues BEGIN only before INSERT/UPDATE/DELETE, so each
    CREATE TABLE committed alone: a daemon killed during its first migration left half a schema that no later
    start could migrate ("table ... already exists"). We issue BEGIN ourselves: a migration is all or nothing."""

    @event.listens_for(engine.sync_engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table rebuilds for ALTER
        transactional_ddl=True,  # PostgreSQL has it; SQLite too, with the BEGIN issued below
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # several nodes starting at once: one migrates, the others wait and then find nothing to do
            connection.execute(text("SELECT pg_advisory_xact_lock(7316001)"))
        context.run_migrations()


async def _main() -> None:
    url = str(config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url"))
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        _transactional_sqlite_ddl(engine)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_main())
