"""A fresh PostgreSQL database per test, created on the server named by MONITOR_TEST_POSTGRES."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url


def _dsn(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """server_url like postgresql://postgres@127.0.0.1:5432/test; yields a URL of a new empty database."""
    name = f"monitor_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(_dsn(server_url, make_url(server_url).database or "postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _dsn(server_url, name).replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
