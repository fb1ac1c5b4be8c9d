"""Engines: SQLite (WAL, synchronous=NORMAL, file mode 0600) by default, PostgreSQL via asyncpg."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from monitor.errors import MonitorError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
HEAD = "0103_morph_forms"  # the newest revision in migrations/versions; tests/test_daemon_schema.py keeps them in step


def async_url(url: str) -> str:
    """`sqlite:///x.db` -> `sqlite+aiosqlite:///x.db`; `postgresql://`, `postgres://` or a sync PostgreSQL driver
    (`+psycopg2`, `+psycopg`) -> `postgresql+asyncpg://`: the daemon is async, one driver per backend."""
    if url.startswith("postgres://"):  # the libpq/Heroku spelling SQLAlchemy does not know
        url = "postgresql://" + url[len("postgres://"):]
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}.get(parsed.get_backend_name())
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _ensure_private_file(url: str) -> None:
    """The database holds what users watch for: create it readable by its owner only."""
    database = make_url(url).database
    if not is_sqlite(url) or not database or database == ":memory:":
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def make_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    _ensure_private_file(url)
    if is_sqlite(url):
        # Five connections at most (each is an aiosqlite thread): SQLite has one writer at a time, so more buy
        # no throughput, and the overflow connections' memory stayed after they closed (bench_memory: +35 MB)
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=5, max_overflow=0,
                                     pool_timeout=120)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # 1 MiB of page cache per pooled connection, not 2 (of up to 15): the OS caches the file anyway,
            # and 15 full caches were 30 MB of the daemon's peak RSS with a million items (bench_memory)
            cursor.execute("PRAGMA cache_size=-1024")
            try:  # queries.in_keys binds key lists as JSON: built in since SQLite 3.38, in most builds before
                cursor.execute("SELECT value FROM json_each('[1]')")
            except Exception as exc:
                raise MonitorError("this SQLite has no JSON functions (JSON1); monitor needs SQLite 3.38 or a "
                                   "build with JSON1, or PostgreSQL") from exc
            finally:
                cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_upgrade(url: str, revision: str = "head") -> None:
    """Alembic upgrade to `revision`, synchronously (its async env runs its own event loop)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = async_url(url)
    command.upgrade(cfg, revision)


async def current_revision(url: str) -> str | None:
    """The revision the database is at (None: not migrated yet)."""
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        return str(revision) if revision is not None else None
    except DBAPIError:  # no alembic_version table yet
        return None
    finally:
        await engine.dispose()


async def upgrade(url: str) -> None:
    """Alembic upgrade head. Runs in a thread: Alembic's async env starts its own event loop. A database
    already at HEAD is left alone without loading Alembic (11 MB of the daemon's memory, 0.1 s of start-up)."""
    _ensure_private_file(async_url(url))
    if await current_revision(url) == HEAD:
        return
    await asyncio.to_thread(alembic_upgrade, url)
