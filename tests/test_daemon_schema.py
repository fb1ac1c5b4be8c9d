"""The Alembic revisions build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
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


async def test_upgrade_rekeys_the_story_window(database_url: str) -> None:
    """0102 replaces band keys of the earlier hashing: an item of the last three days is a candidate again
    (its new keys), an older one keeps none."""
    from sqlalchemy import insert, select

    from monitor.signatures import unit_bands, units
    from monitor.store.db import alembic_upgrade
    from monitor.store.tables import ItemRow, StoryBandRow, StoryRow

    await asyncio.to_thread(alembic_upgrade, database_url, "0101_stories")
    title = "Посол Казахстана встретился с госсекретарем Словении"
    text = ("Посол Казахстана в Словении Алтай Абибуллаев провел встречу с государственным секретарем МИД "
            "Словении Невой Грашич в Любляне.\nСтороны обсудили подготовку визита и сотрудничество в сфере "
            "энергетики, транспорта и логистики, а также туризма и образования.")
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            story = (await conn.execute(insert(StoryRow).values(created_at=now, title=title)
                                        .returning(StoryRow.id))).scalar_one()
            for n, age in ((1, timedelta(hours=5)), (2, timedelta(days=10))):
                await conn.execute(insert(ItemRow).values(
                    id=n, source="mfa", url=f"http://x/{n}", title=title, fetched_at=now - age, text=text,
                    content_hash=f"h{n}", story_id=story, version=1))
                await conn.execute(insert(StoryBandRow), [{"band": n * 100 + i, "item_id": n} for i in range(3)])
        await upgrade(database_url)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(StoryBandRow.item_id, StoryBandRow.band))).all()
    finally:
        await engine.dispose()
    expected = {b for u in units(title, tuple(text.split("\n"))) for b in unit_bands(u)}
    assert expected and {band for item, band in rows if item == 1} == expected
    assert not [band for item, band in rows if item == 2]


async def test_head_constant_is_the_newest_revision(tmp_path: Any) -> None:
    """db.HEAD lets a start-up skip Alembic when nothing is to migrate: it must name the newest revision."""
    from alembic.script import ScriptDirectory

    from monitor.store.db import HEAD, MIGRATIONS, current_revision

    assert ScriptDirectory(str(MIGRATIONS)).get_current_head() == HEAD
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert await current_revision(url) is None
    await upgrade(url)
    assert await current_revision(url) == HEAD
