"""Queries the pipeline and delivery use. Batched: never one query per item."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, any_, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.tables import ItemRow, OutboxRow, SourceRow


async def known_hashes(session: AsyncSession, hashes: Iterable[str]) -> set[str]:
    wanted = list(dict.fromkeys(hashes))
    if not wanted:
        return set()
    query = select(ItemRow.content_hash).where(in_keys(session, ItemRow.content_hash, wanted))
    return set(await session.scalars(query))


async def source_row(session: AsyncSession, name: str) -> SourceRow:
    row = await session.get(SourceRow, name)
    if row is None:
        row = SourceRow(name=name, consecutive_failures=0, first_poll_done=False, last_items_seen=0)
        session.add(row)
        await session.flush()
    return row


def _on_postgresql(session: AsyncSession) -> bool:
    """PostgreSQL, else SQLite: the two databases monitor runs on."""
    assert session.bind is not None
    return session.bind.dialect.name == "postgresql"


def insert_ignore(session: AsyncSession, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the session's dialect."""
    return (postgresql if _on_postgresql(session) else sqlite).insert(table).on_conflict_do_nothing()


async def enqueue(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Outbox rows; a (recipient, story, rule) already queued is skipped by the unique key."""
    if rows:
        await session.execute(insert_ignore(session, OutboxRow.__table__), rows)


async def outbox_counts(session: AsyncSession) -> dict[str, int]:
    from sqlalchemy import func

    rows = await session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
    return {status: count for status, count in rows}


async def oldest_pending(session: AsyncSession) -> datetime | None:
    from sqlalchemy import func

    value: datetime | None = await session.scalar(
        select(func.min(OutboxRow.created_at)).where(OutboxRow.status.in_(("pending", "sending")))
    )
    return value


async def insert_ids(session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]], key: str) -> list[int]:
    """A multi-row INSERT ... RETURNING; the new ids in the order of `rows`. The order of RETURNING's rows is
    not guaranteed (SQLite's documentation says so), and SQLAlchemy's ordered form falls back to one
    statement per row on SQLite; so the rows are told apart by `key`. Rows with the same key are taken to be
    interchangeable (two new stories of one title), and get their ids in ascending order."""
    if not rows:
        return []
    # Core, not the ORM's bulk insert: that splits the rows by which of their values are None (one statement
    # per group) so that server defaults can apply
    table = model.__table__
    ids: dict[Any, list[int]] = {}
    for new_id, value in sorted(await session.execute(insert(table).returning(table.c.id, table.c[key]), rows)):
        ids.setdefault(value, []).append(new_id)
    for same in ids.values():
        same.reverse()
    return [ids[row[key]].pop() for row in rows]


def in_keys(session: AsyncSession, column: Any, keys: Sequence[int] | Sequence[str]) -> Any:
    """`column IN keys` with the keys bound as ONE parameter (a JSON array on SQLite, an array on PostgreSQL):
    `IN (?, ?, ...)` makes a new statement text for every length, and sqlite3 keeps its last 128 prepared
    statements per connection; with a poll's hundreds of band keys those were 40 MB of the daemon's peak RSS
    (bench_memory, measured with memray)."""
    if _on_postgresql(session):
        # text[], not varchar(64)[]: PostgreSQL would cut longer keys to the column's length before comparing
        element = Text() if isinstance(column.type, String) else column.type
        return column == any_(literal(list(keys), postgresql.ARRAY(element)))
    return column.in_(select(func.json_each(literal(json.dumps(list(keys)))).table_valued("value").c.value))


async def insert_tuples_ignore(session: AsyncSession, table: str, columns: Sequence[str],
                               rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING of many plain rows (ints and strings, no type conversion) as the
    driver's executemany, past SQLAlchemy's per-row parameter handling: a poll's ~4,000 band rows as dicts
    through Session.execute cost ~0.4 ms an article (bench_ingest, py-spy)."""
    # the drivers' placeholders: asyncpg's are numbered, sqlite3's are not
    marks = ", ".join(f"${k + 1}" if _on_postgresql(session) else "?" for k in range(len(columns)))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    await (await session.connection()).exec_driver_sql(sql, list(rows))
