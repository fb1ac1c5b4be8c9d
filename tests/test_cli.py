"""The CLI as a user runs it: real processes, a real HTTP server on loopback, a real SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_DATA
from tests.servers.pages import PageServer, Route


def monitor(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=cwd)


@pytest.fixture
def site(pages: PageServer) -> PageServer:
    for path in DEMO_DATA.iterdir():
        pages.routes["/" + path.name] = Route(path.read_bytes(), headers={
            "Content-Type": "application/rss+xml" if path.suffix == ".xml" else "text/html; charset=utf-8"})
    return pages


def write_config(tmp_path: Path, site: PageServer) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[daemon]
database = "sqlite:///{tmp_path / 'm.db'}"
first_poll_window = "3650d"

[[sources]]
name = "mfa"
kind = "html"
url = "{site.url('/mfa-news.html')}"
item = ".news-card"
link = "a.news-link"
article_body = ".news-body"

[[sources]]
name = "kt"
kind = "rss"
url = "{site.url('/kt-rss.xml')}"

[[rules]]
name = "ОИС"
keyword = "ОИС"

[[rules]]
name = "ООН"
keyword = "ООН"

[[recipients]]
name = "desk"
console = true
""")
    return config


def test_once_twice_prints_each_alert_once(tmp_path: Path, site: PageServer) -> None:
    config = write_config(tmp_path, site)
    first = monitor("--config", str(config), "once")
    assert first.returncode == 0, first.stderr
    alerts = [line for line in first.stdout.splitlines() if line.startswith("▶ ")]
    assert len(alerts) >= 2
    assert "▶ В Джидде обсудили подготовку визита Контактной группы ОИС по Афганистану в Кабул" in alerts
    assert len(alerts) == len(set(alerts))
    second = monitor("--config", str(config), "once")
    assert second.returncode == 0, second.stderr
    assert not [line for line in second.stdout.splitlines() if line.startswith("▶ ")]


def test_once_exits_1_when_every_source_fails(tmp_path: Path, site: PageServer) -> None:
    site.routes.clear()
    config = write_config(tmp_path, site)
    result = monitor("--config", str(config), "once")
    assert result.returncode == 1
    assert "FAILED: HTTP 404" in result.stdout
    status = monitor("--config", str(config), "status")
    assert status.returncode == 0
    assert "ОШИБКА ×1" in status.stdout and "HTTP 404" in status.stdout


def test_dry_run_prints_without_delivering(tmp_path: Path, site: PageServer) -> None:
    config = write_config(tmp_path, site)
    dry = monitor("--config", str(config), "once", "--dry-run")
    assert dry.returncode == 0 and "▶ " in dry.stdout
    preview = monitor("--config", str(config), "digest", "--preview", "desk")
    assert preview.returncode == 0 and "▶ " in preview.stdout  # still pending: nothing was sent
    sent = monitor("--config", str(config), "once")
    assert "▶ " in sent.stdout
    assert "нет новых" in monitor("--config", str(config), "digest", "--preview", "desk").stdout


def test_backfill_queues_a_new_rule_over_stored_items(tmp_path: Path, site: PageServer) -> None:
    config = write_config(tmp_path, site)
    monitor("--config", str(config), "once")
    config.write_text(config.read_text() + '\n[[rules]]\nname = "Кабул"\nkeyword = "Кабул"\n')
    result = monitor("--config", str(config), "backfill", "--rule", "Кабул", "--since", "7d")
    assert result.returncode == 0 and "1 stored items match; 1 alerts queued for desk" in result.stdout
    again = monitor("--config", str(config), "once")
    assert "▶ В Джидде обсудили" in again.stdout and "правила: Кабул" in again.stdout


def test_match_json_contract(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "ois"\nkeyword = "ОИС"\n')
    docs = [{"id": "doc-1", "title": "Новости", "text": "Первый абзац.\nВстреча ОИС в Джидде. ОИС и ОИСТ."},
            {"id": "doc-2", "title": "ОИС", "text": "Ничего"}]
    result = monitor("match", "--rules", str(rules), "--json",
                     stdin="\n".join(json.dumps(d, ensure_ascii=False) for d in docs))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"id": "doc-1", "rule": "ois", "paragraph": 1, "snippet": "Встреча ОИС в Джидде. ОИС и ОИСТ.",
         "spans": [[8, 11], [22, 25]]},
        {"id": "doc-2", "rule": "ois", "paragraph": None, "snippet": "ОИС", "spans": [[0, 3]]},
    ]


def test_match_rejects_invalid_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "bad"\nregex = "(("\n')
    result = monitor("match", "--rules", str(rules), stdin="")
    assert result.returncode == 2 and "rules[0].regex" in result.stderr and "Traceback" not in result.stderr


def test_demo_prints_alerts_offline() -> None:
    result = monitor("demo")
    assert result.returncode == 0, result.stderr
    assert "▶ В Джидде обсудили подготовку визита Контактной группы ОИС" in result.stdout
    second_round = result.stdout.split("--- second poll")[1]
    assert "▶ " not in second_round


def test_malloc_arenas_limited_unless_the_user_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    import platform

    from monitor.cli import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False  # the user's MALLOC_ARENA_MAX stands
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert limit_malloc_arenas() is (platform.libc_ver()[0] == "glibc")
