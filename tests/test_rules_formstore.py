"""Inflected forms kept in the database between starts (monitor/rules/formstore.py): a restart reads them
instead of inflecting every keyword again, and matches exactly as a start that worked them out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from monitor.rules import formstore
from monitor.store.tables import MorphFormsRow

RULES = """
[[rules]]
name = "visit"
keyword = "государственный визит"

[[rules]]
name = "slovenia"
country = "Словения"

[[rules]]
name = "reform"
keyword = "реформа"
"""
TEXT = ("Заголовок", ("Переговоры в ходе государственного визита в Любляну.",
                      "Обсудили реформы и казахстанско-словенское сотрудничество."))


def found(rt: Any) -> set[str]:
    return {m.rule for m in rt.matcher.match(*TEXT)}


async def test_a_restart_reads_the_forms_and_matches_the_same(runtime_factory: Any) -> None:
    first = await runtime_factory(RULES)
    assert formstore.stats["misses"] > 0 and formstore.stats["hits"] == 0  # worked out, then stored
    async with first.sessions() as session:
        rows = (await session.execute(select(MorphFormsRow.version))).scalars().all()
    assert rows == [formstore.VERSION]
    second = await runtime_factory(RULES)
    assert formstore.stats["misses"] == 0 and formstore.stats["hits"] > 0  # nothing inflected again
    assert found(first) == found(second) == {"visit", "slovenia", "reform"}


async def test_forms_of_another_version_or_unreadable_are_worked_out_again(runtime_factory: Any) -> None:
    rt = await runtime_factory(RULES)
    async with rt.sessions() as session, session.begin():
        await session.execute(MorphFormsRow.__table__.delete())
        await session.execute(insert(MorphFormsRow), [{"version": "older", "forms": '{"w\\u001fреформа\\u001f": []}'},
                                                      {"version": formstore.VERSION, "forms": "not json"}])
    again = await runtime_factory(RULES)
    assert formstore.stats["hits"] == 0  # the broken row was not trusted, the older version not read
    assert found(again) == {"visit", "slovenia", "reform"}
    async with again.sessions() as session:
        rows = (await session.execute(select(MorphFormsRow.version, MorphFormsRow.forms))).all()
    assert [v for v, _ in rows] == [formstore.VERSION] and rows[0][1].startswith("{")
