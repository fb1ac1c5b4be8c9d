"""1. Ingest: article pages already in memory → parse → extract → hash → dedup → match → store, on one core.

    python -m bench.bench_ingest [--articles 5000] [--rules 10000] [--quick]

The real code does the work: monitor.extract.decode, monitor.sources.pages.extract_article,
monitor.pipeline.to_article (content hash), and monitor.pipeline._store (known-hash lookup, insert, matcher,
matches, outbox) on a real SQLite file migrated by Alembic. Pages go to the store in polls of 20, as a
listing would deliver them. The baseline, measured in the same run (before and after; the faster counts), is
selectolax parsing the same page bytes with the same extraction (monitor.sources.pages.extract_article) and
nothing else; a bare selectolax walk to the same nodes is printed for scale. Target: ingest ≥ 40% of the
baseline. The stage split (decode+extract, hash, match, store) comes from the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
import time
from collections.abc import Sequence
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from bench import corpus
from bench.common import daemon_config, emit, out_dir
from monitor.models import Entry

POLL = 20  # articles per poll: a listing page's worth
_CPU: list[float] = []  # CPU seconds of the baseline runs
TARGET_RATIO = 0.40


def _selectors(style: str) -> dict[str, str | None]:
    opts = corpus.STYLE_OPTIONS[style]
    return {"title": str(opts.get("article_title") or "h1"), "body": opts.get("article_body"),  # type: ignore[dict-item]
            "date": opts.get("article_date")}  # type: ignore[dict-item]


def make_extractor() -> Any:
    """monitor.sources.pages.extract_article under either signature (keywords, or an ArticleSelectors)."""
    from monitor.sources import pages

    params = list(inspect.signature(pages.extract_article).parameters)
    if "selectors" in params:
        selectors_cls = pages.ArticleSelectors  # type: ignore[attr-defined]

        def extract(html: str, entry: Entry, sel: dict[str, Any]) -> Entry:
            return pages.extract_article(html, entry, selectors_cls(**sel))  # type: ignore[call-arg]
    else:
        def extract(html: str, entry: Entry, sel: dict[str, Any]) -> Entry:
            return pages.extract_article(html, entry, **sel)  # type: ignore[call-arg]
    return extract


def extraction_only(pages: Sequence[tuple[bytes, dict[str, Any]]]) -> float:
    """The baseline: selectolax parsing the page bytes + monitor's own extraction (title, date, paragraphs,
    the same extract_article call), nothing else; seconds for all pages."""
    extract = make_extractor()
    start, cpu = time.perf_counter(), time.process_time()
    for html, sel in pages:
        extract(html, Entry(url="u", title="", paragraphs=()), sel)
    _CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start


def bare_selectolax(pages: Sequence[tuple[bytes, dict[str, Any]]]) -> float:
    """For scale: selectolax parse + the fewest calls that reach the same nodes (no cleaning); seconds."""
    start = time.perf_counter()
    for html, sel in pages:
        tree = LexborHTMLParser(html)
        title = tree.css_first(sel["title"])
        body = tree.css_first(sel["body"]) if sel["body"] else (tree.css_first("article") or tree.body)
        date = tree.css_first(sel["date"]) if sel["date"] else tree.css_first("time")
        _ = title.text() if title is not None else ""
        _ = (date.attributes.get("datetime") or date.text()) if date is not None else None
        if body is not None:
            _ = [n.text(separator=" ") for n in body.css("p, h2, h3, h4, li, blockquote")]
    return time.perf_counter() - start


async def ingest(pages: Sequence[tuple[bytes, dict[str, Any]]], urls: Sequence[str], rule_count: int,
                 database: str) -> dict[str, Any]:
    from monitor.config import parse_config
    from monitor.extract import decode
    from monitor.pipeline import _store, to_article
    from monitor.runtime import build_runtime
    from monitor.sources import SourceState

    config = parse_config(daemon_config(
        database, sources=[{"name": "bench", "kind": "html", "url": "http://127.0.0.1:9/"}], rules=rule_count,
        recipients=[{"name": "desk", "console": True}]), "bench.toml")
    t0 = time.perf_counter()
    rt = await build_runtime(config)
    setup_s = time.perf_counter() - t0
    extract = make_extractor()
    stage = {"extract": 0.0, "hash": 0.0, "store_match": 0.0}
    new_items = matches = 0
    try:
        cpu_start = time.process_time()
        start = time.perf_counter()
        for at in range(0, len(pages), POLL):
            t = time.perf_counter()
            entries = [extract(decode(html), Entry(url=url, title="", paragraphs=()), sel)
                       for (html, sel), url in zip(pages[at:at + POLL], urls[at:at + POLL], strict=True)]
            t2 = time.perf_counter()
            articles = [to_article("bench", e) for e in entries]
            t3 = time.perf_counter()
            result = await _store(rt, "bench", SourceState(), articles, len(entries))
            t4 = time.perf_counter()
            stage["extract"] += t2 - t
            stage["hash"] += t3 - t2
            stage["store_match"] += t4 - t3
            new_items += result.new_items
            matches += result.matches
        total = time.perf_counter() - start
        cpu_total = time.process_time() - cpu_start
        # The matcher alone over the same texts, to split "store_match".
        texts = [(a.title, a.paragraphs) for a in articles_of(pages[: min(len(pages), 1000)], urls, extract)]
        t = time.perf_counter()
        for title, paras in texts:
            rt.matcher.match(title, paras, "bench")
        match_per_article = (time.perf_counter() - t) / max(1, len(texts))
        # Re-ingest the last 1,000: every article is a known hash (the dedup path).
        again = [to_article("bench", e) for e in articles_of(pages[-1000:], urls[-1000:], extract)]
        t = time.perf_counter()
        for at in range(0, len(again), POLL):
            await _store(rt, "bench", SourceState(), again[at:at + POLL], POLL)
        dup_s = time.perf_counter() - t
    finally:
        await rt.aclose()
    n = len(pages)
    match_s = match_per_article * n
    return {
        "seconds": total, "articles_per_s": n / total, "new_items": new_items, "matches": matches,
        "cpu_seconds": cpu_total, "articles_per_cpu_s": n / cpu_total,
        "runtime_build_s": setup_s,
        "stage_seconds": {"decode_extract": stage["extract"], "hash": stage["hash"],
                          "match_est": match_s, "store_est": max(0.0, stage["store_match"] - match_s)},
        "known_duplicates_per_s": len(again) / dup_s,
    }


def articles_of(pages: Sequence[tuple[bytes, dict[str, Any]]], urls: Sequence[str], extract: Any) -> list[Any]:
    from monitor.extract import decode
    from monitor.pipeline import to_article

    return [to_article("bench", extract(decode(html), Entry(url=url, title="", paragraphs=()), sel))
            for (html, sel), url in zip(pages, urls, strict=False)]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench.bench_ingest")
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 articles")
    args = parser.parse_args(argv)
    n = 1000 if args.quick else args.articles
    styles = corpus.STYLES
    items = list(corpus.articles(n, seed=8))
    pages = [(corpus.article_html(a, styles[a.index % len(styles)]), _selectors(styles[a.index % len(styles)]))
             for a in items]
    urls = [f"http://s{a.source}.example{a.path()}" for a in items]
    db = out_dir("ingest") / "ingest.db"
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    base_before = extraction_only(pages)
    full = asyncio.run(ingest(pages, urls, args.rules, f"sqlite:///{db}"))
    base_after = extraction_only(pages)
    base_s = min(base_before, base_after)
    bare_s = min(bare_selectolax(pages) for _ in range(2))
    ratio = full["articles_per_s"] / (n / base_s)
    # CPU time (all threads of this process) is less disturbed by other work on a shared machine than wall time
    ratio_cpu = full["articles_per_cpu_s"] / (n / min(_CPU))
    return {
        "name": "ingest", "articles": n, "rules": args.rules,
        "mean_page_kb": round(sum(len(p) for p, _ in pages) / n / 1024, 1),
        "baseline_pages_per_s": n / base_s, "baseline_runs_s": [base_before, base_after],
        "bare_selectolax_pages_per_s": n / bare_s,
        "baseline_pages_per_cpu_s": n / min(_CPU),
        **full, "ratio": ratio, "ratio_cpu": ratio_cpu, "target": f"≥ {TARGET_RATIO:.0%} of baseline",
        "pass": ratio >= TARGET_RATIO,
    }


if __name__ == "__main__":
    emit(main(sys.argv[1:]))
