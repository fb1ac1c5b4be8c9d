"""Faults through the real pipeline: each leaves its documented source state, and the other sources go on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitor.pipeline import run_source
from monitor.store.tables import SourceRow
from tests.servers.pages import PageServer, Route
from tests.sitefixtures import SITES, serve_kt, source_block

NOW = datetime(2026, 3, 13, 8, 0, tzinfo=UTC)
# Quick settings so that faults resolve fast; max_response small enough for an oversized body to be cheap.
DAEMON = 'fetch_timeout = "0.3s"\nfetch_retries = 1\nmax_response = 200000\n'
GOOD_RSS = (SITES / "akorda" / "rss.xml").read_bytes()


@dataclass
class Fault:
    kind: str  # rss | html | govkz
    route: Route
    error: str  # what last_error starts with or contains
    retry_in_s: float = 600  # next_poll_at - now after the first failure (interval 10 min)
    hits: int = 1  # requests the fault cost (retries included)


FAULTS = {
    "500": Fault("rss", Route(b"boom", status=500), "HTTP 500 from {url}", hits=2),
    "429 with Retry-After": Fault("rss", Route(b"", status=429, headers={"Retry-After": "3600"}),
                                  "HTTP 429 from {url}", retry_in_s=3600),
    "503 with a short Retry-After": Fault("rss", Route(b"", status=503, headers={"Retry-After": "30"}),
                                          "HTTP 503 from {url}"),
    "timeout": Fault("rss", Route(GOOD_RSS, delay_s=1.0), "timeout after 0.3s fetching {url}", hits=2),
    "connection reset": Fault("rss", Route(reset=True), "fetching {url}", hits=2),
    "truncated body": Fault("rss", Route(GOOD_RSS, truncate_to=500), "RemoteProtocolError fetching {url}",
                            hits=2),
    "malformed XML": Fault("rss", Route(b"<rss><channel><item><title>x", headers={"Content-Type": "text/xml"}),
                           "not a valid RSS/Atom feed"),
    "malformed JSON": Fault("govkz", Route('[{"id": 1, "title": "обры'.encode(),
                                           headers={"Content-Type": "application/json"}),
                            "gov.kz refused the API request: REST API answered something that is not JSON"),
    "malformed HTML": Fault("html", Route(b'{"not": "html"}'), "the listing {url} is not an HTML page"),
    "redirect loop": Fault("rss", Route(status=302, headers={"Location": "/bad"}), "too many redirects",
                           hits=6),
    "oversized": Fault("rss", Route(b"<rss>" + b" " * 300_000 + b"</rss>"),
                       "response too large (300011 bytes > 200000) from {url}"),
    "gzip bomb": Fault("rss", Route(b"\0" * 3_000_000, gzip=True), "response too large (over 200000 bytes)"),
}


def faulty_block(pages: PageServer, fault: Fault) -> str:
    if fault.kind == "govkz":
        return source_block(pages, "govkz-mfa", "bad", extra=f'url = "{pages.url("/bad")}"\n')
    if fault.kind == "html":
        return f'[[sources]]\nname = "bad"\nkind = "html"\nurl = "{pages.url("/bad")}"\n'
    return f'[[sources]]\nname = "bad"\nkind = "rss"\nurl = "{pages.url("/bad")}"\n'


async def rows(rt: Any) -> dict[str, SourceRow]:
    async with rt.sessions() as session:
        return {r.name: r for r in await session.scalars(select(SourceRow))}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_fault_is_recorded_and_other_sources_go_on(name: str, pages: PageServer,
                                                         runtime_factory: Any) -> None:
    fault = FAULTS[name]
    serve_kt(pages)
    pages.routes["/bad"] = fault.route
    pages.routes["/graphql"] = Route(b"", status=404)
    rt = await runtime_factory(DAEMON + faulty_block(pages, fault) + source_block(pages, "kt-kz", "kt"))
    rt.clock = lambda: NOW
    bad, good = await asyncio.gather(run_source(rt, "bad", force=True), run_source(rt, "kt", force=True))
    assert good.ok and good.new_items == 4  # the healthy source is polled as usual
    assert not bad.ok
    state = (await rows(rt))["bad"]
    assert fault.error.format(url=pages.url("/bad")) in (state.last_error or "")
    assert state.consecutive_failures == 1 and state.last_error_at == NOW
    assert state.next_poll_at == NOW + timedelta(seconds=fault.retry_in_s)
    assert state.last_success_at is None
    assert len([h for h in pages.hits if h.path == "/bad"]) == fault.hits
    assert (await rows(rt))["kt"].last_error is None
    # The next failure doubles the wait; the source is never dropped.
    later = NOW + timedelta(seconds=fault.retry_in_s)
    rt.clock = lambda: later
    assert not (await run_source(rt, "bad")).ok
    again = (await rows(rt))["bad"]
    assert again.consecutive_failures == 2
    assert again.next_poll_at == later + timedelta(seconds=max(1200, fault.retry_in_s))


async def test_recovery_clears_the_error(pages: PageServer, runtime_factory: Any) -> None:
    pages.routes["/bad"] = Route(GOOD_RSS, sequence=[Route(b"", status=404)])
    rt = await runtime_factory(DAEMON + f'[[sources]]\nname = "bad"\nkind = "rss"\nurl = "{pages.url("/bad")}"\n')
    rt.clock = lambda: NOW
    assert not (await run_source(rt, "bad", force=True)).ok
    assert (await rows(rt))["bad"].last_error == f"HTTP 404 from {pages.url('/bad')}"
    assert (await run_source(rt, "bad", force=True)).new_items == 2
    state = (await rows(rt))["bad"]
    assert state.last_error is None and state.consecutive_failures == 0 and state.last_success_at == NOW


async def test_304_keeps_the_source_healthy(pages: PageServer, runtime_factory: Any) -> None:
    pages.routes["/feed"] = Route(GOOD_RSS, etag='"a1"', headers={"Content-Type": "application/rss+xml"})
    rt = await runtime_factory(DAEMON + f'[[sources]]\nname = "f"\nkind = "rss"\nurl = "{pages.url("/feed")}"\n')
    rt.clock = lambda: NOW
    assert (await run_source(rt, "f", force=True)).new_items == 2
    later = NOW + timedelta(days=3)
    rt.clock = lambda: later
    second = await run_source(rt, "f", force=True)
    assert second.ok and second.new_items == 0
    assert pages.hits[-1].headers["if-none-match"] == '"a1"'
    state = (await rows(rt))["f"]
    assert state.etag == '"a1"' and state.last_items_seen == 2 and state.last_nonempty_at == later
    assert state.consecutive_failures == 0 and state.next_poll_at == later + timedelta(minutes=10)


async def test_cache_control_max_age_delays_the_next_poll(pages: PageServer, runtime_factory: Any) -> None:
    pages.routes["/hour"] = Route(GOOD_RSS, headers={"Cache-Control": "public, max-age=3600"})
    pages.routes["/year"] = Route(GOOD_RSS.replace(b"akorda.kz/ru/", b"akorda.kz/ru/y-"),
                                  headers={"Cache-Control": "max-age=31536000"})
    pages.routes["/short"] = Route(GOOD_RSS.replace(b"akorda.kz/ru/", b"akorda.kz/ru/s-"),
                                   headers={"Cache-Control": "max-age=60"})
    body = DAEMON + "".join(f'[[sources]]\nname = "{n}"\nkind = "rss"\nurl = "{pages.url("/" + n)}"\n'
                            for n in ("hour", "year", "short"))
    rt = await runtime_factory(body)
    rt.clock = lambda: NOW
    for name in ("hour", "year", "short"):
        assert (await run_source(rt, name, force=True)).ok
    state = await rows(rt)
    assert state["hour"].next_poll_at == NOW + timedelta(hours=1)
    assert state["year"].next_poll_at == NOW + timedelta(hours=6)  # capped like a backoff: never abandoned
    assert state["short"].next_poll_at == NOW + timedelta(minutes=10)  # never sooner than the interval
    skipped = await run_source(rt, "hour")  # the daemon's tick before the hour is up
    assert skipped.skipped and len([h for h in pages.hits if h.path == "/hour"]) == 1


async def test_status_flags_a_listing_whose_markup_changed(pages: PageServer, runtime_factory: Any,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.ops import print_status

    serve_kt(pages)
    pages.routes["/down"] = Route(b"", status=500)
    rt = await runtime_factory(DAEMON + source_block(pages, "kt-kz", "kt")
                               + f'[[sources]]\nname = "down"\nkind = "rss"\nurl = "{pages.url("/down")}"\n')
    rt.clock = lambda: NOW
    assert (await run_source(rt, "kt", force=True)).new_items == 4
    await run_source(rt, "down", force=True)
    # Later polls list the same (known) articles: nothing new, yet the listing is healthy.
    rt.clock = lambda: NOW + timedelta(days=3)
    assert (await run_source(rt, "kt", force=True)).new_items == 0
    assert (await rows(rt))["kt"].last_items_seen == 4
    await print_status(rt.config, clock=lambda: NOW + timedelta(days=3))
    assert "НЕТ МАТЕРИАЛОВ" not in capsys.readouterr().out
    # The site renames its card classes: the listing parses, but to zero items.
    for section in ("politics", "press-materialy"):
        route = pages.routes[f"/rus/{section}"]
        route.body = route.body.replace(b"news-list__item", b"feed__item")
    changed_at = NOW + timedelta(days=3, hours=1)
    rt.clock = lambda: changed_at
    result = await run_source(rt, "kt", force=True)
    assert result.ok and result.entries == 0
    state = (await rows(rt))["kt"]
    assert state.last_items_seen == 0 and state.last_nonempty_at == NOW + timedelta(days=3)
    await print_status(rt.config, clock=lambda: changed_at)
    soon = capsys.readouterr().out
    assert "kt [OK]" in soon  # not yet: a quiet day is no alarm
    much_later = changed_at + timedelta(days=2)
    rt.clock = lambda: much_later
    await run_source(rt, "kt", force=True)
    await run_source(rt, "down", force=True)
    await print_status(rt.config, clock=lambda: much_later)
    out = capsys.readouterr().out
    kt_line = next(line for line in out.splitlines() if line.strip().startswith("kt ["))
    assert "НЕТ МАТЕРИАЛОВ давно: проверьте селекторы" in kt_line
    down = out[out.index("down ["):]
    assert "ОШИБКА ×2" in down and "ошибок подряд: 2" in down
    assert f"HTTP 500 from {pages.url('/down')}" in down and "следующий опрос" in down
    assert "за 24 ч: 0" in out[out.index("kt ["):out.index("down [")]
