"""Shared fixtures: a real page server on loopback, a real SQLite file migrated by Alembic, config builders."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from monitor.config import Config, parse_config
from monitor.runtime import Runtime, build_runtime
from tests.servers.pages import PageServer

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_DATA = Path(__file__).parent.parent / "monitor" / "demo_data"


@pytest.fixture
def pages() -> Iterator[PageServer]:
    with PageServer() as server:
        yield server


def database_urls() -> list[str]:
    """SQLite always; PostgreSQL too when MONITOR_TEST_POSTGRES is set (CI sets it)."""
    urls = ["sqlite"]
    if os.environ.get("MONITOR_TEST_POSTGRES"):
        urls.append("postgres")
    return urls


@pytest.fixture(params=database_urls())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    from tests.pg import fresh_postgres_database

    with fresh_postgres_database(os.environ["MONITOR_TEST_POSTGRES"]) as url:
        yield url


def make_config(body: str, database_url: str) -> Config:
    return parse_config(f'[daemon]\ndatabase = "{database_url}"\n{body}', "test.toml")


@pytest.fixture
async def runtime_factory(database_url: str) -> AsyncIterator[object]:
    made: list[Runtime] = []

    async def factory(body: str) -> Runtime:
        rt = await build_runtime(make_config(body, database_url))
        made.append(rt)
        return rt

    yield factory
    for rt in made:
        await rt.aclose()
