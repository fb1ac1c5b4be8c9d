"""`monitor run` as a process: SIGTERM drains in-flight polls (or cancels them cleanly after the drain timeout)
and exits 0; logs are one key=value line per event, without timestamps under journald, and never show a secret."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.daemon_proc import DaemonProc, write_config
from tests.servers.pages import PageServer, Route

RSS = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title><item><title>Встреча ОИС'
       '</title><link>http://example.org/1</link><description>Делегации ОИС.</description></item></channel></rss>')
LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} )?(DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


def slow_source(pages: PageServer, delay_s: float) -> str:
    pages.routes["/slow"] = Route(RSS.encode(), headers={"Content-Type": "application/rss+xml"}, delay_s=delay_s)
    return (f'[[sources]]\nname = "slow"\nkind = "rss"\nurl = "{pages.url("/slow")}"\njitter = "0s"\n'
            '[[rules]]\nname = "oic"\nkeyword = "ОИС"\n[[recipients]]\nname = "desk"\nconsole = true\n')


def wait_for_hit(pages: PageServer, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(h.path == path for h in pages.hits):
        assert time.monotonic() < deadline, f"{path} never requested"
        time.sleep(0.05)


def source_row(db: Path) -> tuple[str | None, str | None, str | None]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT last_success_at, lease_owner, last_error FROM sources WHERE name = 'slow'")
        return row.fetchone()  # type: ignore[no-any-return]


def test_sigterm_during_a_poll_finishes_it_and_exits_0(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with PageServer() as pages:
        config = write_config(tmp_path / "c.toml", f"sqlite:///{db}", slow_source(pages, 2.0))
        daemon = DaemonProc(config)
        wait_for_hit(pages, "/slow")
        daemon.signal(signal.SIGTERM)
        assert daemon.stop() == 0
    log = daemon.text()
    assert "stopping: draining jobs=1" in log and "stopped" in log
    last_success, lease_owner, error = source_row(db)
    assert last_success is not None and lease_owner is None and error is None  # the poll was recorded
    # its alert was stored, not lost: queued for the next start (the drain takes no new work)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


def test_sigterm_after_drain_timeout_cancels_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with PageServer() as pages:
        config = write_config(tmp_path / "c.toml", f"sqlite:///{db}", slow_source(pages, 8.0),
                              daemon_extra='drain_timeout = "1s"')
        daemon = DaemonProc(config)
        wait_for_hit(pages, "/slow")
        daemon.signal(signal.SIGTERM)
        assert daemon.stop() == 0
    assert "cancelling jobs=1" in daemon.text()
    last_success, lease_owner, _ = source_row(db)
    assert last_success is None and lease_owner is None  # cleanly not recorded, lease given back


def run_and_collect(tmp_path: Path, database: str, env: dict[str, str]) -> DaemonProc:
    with PageServer() as pages:
        pages.routes["/feed"] = Route(RSS.encode(), headers={"Content-Type": "application/rss+xml"})
        body = f"""
[[sources]]
name = "feed"
kind = "rss"
url = "{pages.url('/feed')}"
jitter = "0s"

[[sources]]
name = "gone"
kind = "rss"
url = "http://127.0.0.1:9/gone"
jitter = "0s"

[[rules]]
name = "oic"
keyword = "ОИС"

[[recipients]]
name = "desk"
console = true

[telegram]
token = "${{TELEGRAM_TOKEN}}"
api_url = "http://127.0.0.1:9/"

[smtp]
host = "127.0.0.1"
port = 9
username = "monitor"
password = "${{SMTP_PASSWORD}}"
from = "monitor@example.org"
"""
        config = write_config(tmp_path / "c.toml", database, body, daemon_extra='http = "127.0.0.1:0"')
        daemon = DaemonProc(config, env=env, log_level="DEBUG")
        try:
            daemon.wait_for(r"recipient=desk channel=console delivered")
            daemon.wait_for(r"source=gone poll failed")
            mark = daemon.count()
            config.write_text(config.read_text(encoding="utf-8") + "\n[oops\n", encoding="utf-8")
            daemon.signal(signal.SIGHUP)
            daemon.wait_for("reload rejected", after=mark)
            assert daemon.stop() == 0
        finally:
            daemon.stop()
    return daemon


def test_no_secret_in_any_output(tmp_path: Path) -> None:
    secrets = {"TELEGRAM_TOKEN": "123456:TOKEN-s3cr3t-Zx9", "SMTP_PASSWORD": "pw-s3cr3t-Qq7"}
    databases = [f"sqlite:///{tmp_path / 'm.db'}"]
    pg = os.environ.get("MONITOR_TEST_POSTGRES")
    fresh = None
    if pg:  # the database password too (the CI server trusts loopback, so any password connects)
        from tests.pg import fresh_postgres_database

        fresh = fresh_postgres_database(pg)
        url = fresh.__enter__()
        secrets["DB_PASSWORD"] = "db-s3cr3t-Kk4"
        databases.append(url.replace("postgres@", "postgres:${DB_PASSWORD}@", 1))
    try:
        for database in databases:
            daemon = run_and_collect(tmp_path, database, secrets)
            output = daemon.text("stdout") + "\n" + daemon.text("stderr")
            assert "source=gone" in output and "DEBUG" in output
            for value in secrets.values():
                assert value not in output
    finally:
        if fresh is not None:
            fresh.__exit__(None, None, None)


def test_log_lines_are_key_value_and_journald_gets_no_timestamps(tmp_path: Path) -> None:
    with PageServer() as pages:
        config = write_config(tmp_path / "c.toml", f"sqlite:///{tmp_path / 'm.db'}", slow_source(pages, 0))
        daemon = DaemonProc(config, env={"INVOCATION_ID": "0123456789abcdef", "JOURNAL_STREAM": "8:12345"})
        try:
            daemon.wait_for(r"recipient=desk channel=console delivered alerts=1")
        finally:
            assert daemon.stop() == 0
    lines = daemon.lines["stderr"]
    assert lines and all(LINE.match(line) and not LINE.match(line).group(1) for line in lines), lines  # type: ignore[union-attr]
    assert any(re.search(r"INFO monitor\.pipeline: source=slow new_items=1 matches=\d+ enqueued=1$", x) for x in lines)


@pytest.mark.parametrize("journald", [False])
def test_timestamps_outside_journald(tmp_path: Path, journald: bool) -> None:
    with PageServer() as pages:
        config = write_config(tmp_path / "c.toml", f"sqlite:///{tmp_path / 'm.db'}", slow_source(pages, 0))
        daemon = DaemonProc(config)
        try:
            daemon.wait_for(r"started node=")
        finally:
            assert daemon.stop() == 0
    assert all((m := LINE.match(line)) and m.group(1) for line in daemon.lines["stderr"])
