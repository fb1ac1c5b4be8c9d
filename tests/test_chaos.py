"""The chaos suite in its short form (the long one: `make chaos`): the real daemon as a child process, the
source server failing on command, SIGKILL restarts; nothing lost, no duplicate without a crash to explain it."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from chaos.scenario import Plan, run
from monitor.pipeline import run_source
from tests.servers.pages import PageServer, Route


async def test_short_chaos_run_loses_no_alert(tmp_path: Path) -> None:
    figures, stats = await run(Plan(steps=5, kill_p=0.7, fault_p=0.6, settle_s=120.0), tmp_path, seed=5)
    assert figures.alerts_expected > 0 and figures.restarts_survived >= 1
    assert figures.lost == 0 and figures.alerts_delivered == figures.alerts_expected
    assert figures.unexplained_duplicates == 0 and figures.unexpected == 0
    assert figures.outbox_not_delivered == 0
    assert stats["exit_code_on_sigterm"] == 0 and stats["internal_errors"] == 0
    assert stats["invalid_html_messages"] == 0  # hostile titles stayed text in Telegram and email HTML
    assert stats["secrets_in_output"] == 0  # token and password: not in stdout, stderr or the database


async def test_article_page_that_failed_is_fetched_although_the_listing_is_unchanged(
        pages: PageServer, runtime_factory: Any) -> None:
    """Found by the chaos run's reasoning: a listing answered 304 hid an article whose page had failed."""
    cards = "".join(f'<article><a href="/n/{i}">Новость {i}</a></article>' for i in (1, 2))
    pages.routes["/list"] = Route(f"<html><body>{cards}</body></html>".encode(), etag='"v1"')
    pages.routes["/n/1"] = Route("<html><body><h1>Новость 1</h1><p>Словения 1</p></body></html>".encode())
    pages.routes["/n/2"] = Route(fault="5xx")
    rt = await runtime_factory(f'[[sources]]\nname = "s"\nkind = "html"\nurl = "{pages.url("/list")}"\n'
                               '[[rules]]\nname = "r"\nkeyword = "Словения"\n'
                               '[[recipients]]\nname = "desk"\nconsole = true\n')
    first = await run_source(rt, "s", force=True)
    assert first.ok and first.enqueued == 1
    pages.routes["/n/2"] = Route("<html><body><h1>Новость 2</h1><p>Словения 2</p></body></html>".encode())
    second = await run_source(rt, "s", force=True)  # same listing, same ETag
    assert second.ok and second.enqueued == 1, "the article whose page failed was never fetched again"


CRASH_IN_MIGRATION = """
import os, signal, sys
from alembic.operations import Operations
create_table, made = Operations.create_table, []

def crashing_create_table(self, *args, **kwargs):
    result = create_table(self, *args, **kwargs)
    made.append(args[0])
    if len(made) == 3:  # the power goes out half-way through the first migration
        os.kill(os.getpid(), signal.SIGKILL)
    return result

Operations.create_table = crashing_create_table
from monitor.cli import main
main(["--config", sys.argv[1], "db", "upgrade"])
"""


def test_sigkill_during_the_first_migration_leaves_a_database_that_starts(tmp_path: Path) -> None:
    """Found by the chaos run's start-up kills: each CREATE TABLE used to commit alone, so a crash half-way
    left tables without a version and every later start failed with "table ... already exists"."""
    db = tmp_path / "monitor.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndatabase = "sqlite:///{db}"\n')
    crashed = subprocess.run([sys.executable, "-c", CRASH_IN_MIGRATION, str(config)], capture_output=True)
    assert crashed.returncode == -signal.SIGKILL
    with sqlite3.connect(db) as conn:
        left = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert left <= {"alembic_version"}, f"half a schema survived the crash: {left}"
    again = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), "db", "upgrade"],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"sources", "items", "outbox", "recipients"} <= tables and len(version) == 1
