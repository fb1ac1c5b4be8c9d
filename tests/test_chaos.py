"""The chaos suite in its short form (the long one: `make chaos`): the real daemon as a child process, the
source server failing on command, SIGKILL restarts; nothing lost, no duplicate without a crash to explain it."""

from __future__ import annotations

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
