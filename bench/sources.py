"""Source figures (JSON on stdout, never pass/fail): article extraction speed on each preset's recorded pages,
and what politeness costs: one kt-kz poll (2 listings + 4 article pages) against the loopback page server with
no gap and with the default 1 s gap per host. Run: `.venv/bin/python -m bench.sources`."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from monitor.extract import decode
from monitor.fetch import Fetcher, FetchPolicy
from monitor.models import Entry
from monitor.sources import SourceState
from monitor.sources.govkz import GovkzOptions, items_of, to_entry
from monitor.sources.html import HtmlOptions
from monitor.sources.pages import extract_article
from monitor.sources.presets import PRESETS
from monitor.sources.rss import parse_feed
from tests.servers.pages import PageServer
from tests.sitefixtures import SITES, preset_source, serve_kt


def _options(preset: str) -> Any:
    return {k: v for k, v in PRESETS[preset].items() if k != "kind"}


def _rate(fn: Any, seconds: float = 1.5) -> float:
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        n += fn()
    return n / (time.perf_counter() - started)


def bench_extract() -> dict[str, float]:
    figures: dict[str, float] = {}
    for preset, folder in (("kt-kz", "kt-kz/rus"), ("inform-kz", "inform-kz/ru")):
        selectors = HtmlOptions.model_validate(_options(preset)).selectors()
        pages = [decode(p.read_bytes()) for p in sorted((SITES / folder).rglob("*.html"))]

        def run(pages: list[str] = pages, selectors: Any = selectors) -> int:
            for html in pages:
                extract_article(html, Entry("https://x/", "", ()), selectors)
            return len(pages)

        figures[f"{preset}_article_pages_per_s"] = round(_rate(run))
    feed = (SITES / "akorda" / "rss.xml").read_bytes()
    figures["akorda_rss_items_per_s"] = round(_rate(lambda: len(parse_feed(feed, 50))))
    govkz = GovkzOptions()
    data = json.loads((SITES / "govkz-mfa" / "news.json").read_bytes())
    figures["govkz_items_per_s"] = round(_rate(lambda: len([to_entry(i, govkz) for i in items_of(data, "x")])))
    return figures


async def bench_politeness() -> dict[str, float]:
    figures: dict[str, float] = {}
    for label, gap in (("no_gap", 0.0), ("gap_1s", 1.0)):
        with PageServer() as pages:
            serve_kt(pages)
            async with Fetcher(FetchPolicy(host_gap_s=gap)) as http:
                started = time.perf_counter()
                await preset_source(pages, "kt-kz").poll(http, SourceState())
                figures[f"kt_kz_poll_6_requests_{label}_s"] = round(time.perf_counter() - started, 2)
    return figures


def main() -> None:
    print(json.dumps({**bench_extract(), **asyncio.run(bench_politeness())}, indent=1))


if __name__ == "__main__":
    main()
