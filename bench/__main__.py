"""`make bench` = `python -m bench [--quick] [--only NAME,...] [--skip NAME,...]`.

Runs every benchmark in this process's sequence (never in parallel: they would disturb each other), prints
one JSON document and a table of the headline figures with their targets, and writes bench/out/latest.json.
The matcher (2) and stories (4) benchmarks belong to the rules and stories modules; they run when present.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import inspect
import io
import json
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import OUT

# (key, module, args for the full run, args for --quick)
BENCHES: list[tuple[str, str, list[str], list[str]]] = [
    # full-run sizes keep `make bench` under 10 minutes on 2 shared cores
    ("ingest", "bench.bench_ingest", ["--articles", "2000"], ["--quick"]),
    ("matcher", "bench.bench_matcher", [], ["--sizes", "10,1000,10000", "--seconds", "0.5"]),
    ("polling", "bench.bench_polling", [], ["--quick"]),
    # (a "window" series of 10,000 would repeat the "store" series of 10,000: every item is in the window)
    ("stories", "bench.bench_stories", ["--sizes", "10000,1000000", "--window-sizes", ""],
     ["--sizes", "10000", "--window-sizes", ""]),
    ("memory", "bench.bench_memory", [], ["--quick"]),
    ("startup", "bench.bench_startup", [], ["--quick"]),
    ("latency", "bench.bench_latency", [], ["--quick"]),
    ("delivery", "bench.delivery", [], []),  # the channels helper's figures (no arguments)
    ("sources", "bench.sources", [], []),  # the sources helper's extraction and politeness figures
]


def _call(module: Any, argv: list[str]) -> dict[str, Any]:
    """main(argv) -> dict, or a main that prints JSON (captured)."""
    main: Callable[..., Any] = module.main
    buffer = io.StringIO()
    saved = sys.argv
    sys.argv = [module.__name__, *argv]  # for a main() that parses sys.argv itself
    try:
        with contextlib.redirect_stdout(buffer):
            returned = main(argv) if inspect.signature(main).parameters else main()
            if inspect.isawaitable(returned):
                returned = asyncio.run(returned)
    finally:
        sys.argv = saved
    if isinstance(returned, dict):
        return returned
    text = buffer.getvalue().strip()
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        # progress lines (JSON Lines) before the final document: keep the last complete JSON value
        decoder, values, at = json.JSONDecoder(), [], 0
        while (start := text.find("{", at)) >= 0:
            try:
                value, at = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                at = start + 1
                continue
            values.append(value)
        parsed = values[-1] if values else {"output": text[-2000:]}
    return parsed if isinstance(parsed, dict) else {"result": parsed}


def run(key: str, module_name: str, argv: list[str]) -> dict[str, Any]:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return {"skipped": f"{module_name} is not available ({exc})"}
    start = time.perf_counter()
    try:
        result = _call(module, argv)
    except (Exception, SystemExit) as exc:  # one broken benchmark must not hide the others' figures
        traceback.print_exc(file=sys.stderr)
        return {"error": f"{type(exc).__name__}: {exc}", "wall_s": time.perf_counter() - start}
    result["wall_s"] = time.perf_counter() - start
    return result


def _f(value: Any, fmt: str = "{:,.0f}") -> str:
    return fmt.format(value) if isinstance(value, int | float) else "—"


def _mark(passed: Any) -> str:
    return "✓" if passed is True else ("✗" if passed is False else "·")


def _at_most(value: object, bound: float) -> bool | None:
    return None if not isinstance(value, int | float) else value <= bound


def rows(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, target, mark) — the headline of each result."""
    out: list[tuple[str, str, str, str]] = []
    for key, r in results.items():
        if "skipped" in r or "error" in r:
            out.append((key, r.get("skipped") or r.get("error", ""), "", "·"))
            continue
        if key == "ingest":
            out.append(("1. ingest", f"{_f(r['articles_per_s'])} articles/s vs selectolax + extraction alone "
                        f"{_f(r['baseline_pages_per_s'])}/s = {r['ratio']:.0%} (by CPU time "
                        f"{r.get('ratio_cpu', float('nan')):.0%}; {r['rules']:,} rules, {r['articles']:,} articles)",
                        r["target"], _mark(r["pass"])))
        elif key == "polling":
            ours, uw = r["monitor"], r.get("urlwatch", {})
            uw1 = uw.get("round1", {}).get("seconds")
            out.append(("3. polling", f"{r['sources']:,} sources: round 1 {_f(ours['round1']['seconds'], '{:.2f}')} s "
                        f"({_f(ours['round1']['requests_per_s'])} req/s), 304 round "
                        f"{_f(ours['round2_304']['seconds'], '{:.2f}')} s (×{r['ratio_304_speedup']:.1f}); "
                        f"urlwatch round 1 {_f(uw1, '{:.2f}')} s", r["target"], _mark(r["pass"])))
        elif key == "memory":
            out.append(("5. memory", f"peak RSS {_f(r['peak_rss_mb'], '{:.0f}')} MB ({r['sources']:,} sources, "
                        f"{r['rules']:,} rules, {r['items']:,} items)", r["target"], _mark(r["pass"])))
        elif key == "startup":
            out.append(("6. start-up", f"READY in {_f(r['median_s'], '{:.2f}')} s median, "
                        f"{_f(r['worst_s'], '{:.2f}')} s worst ({r['rules']:,} rules, via {r['ready_via']})",
                        r["target"], _mark(r["pass"])))
        elif key == "latency":
            out.append(("7. latency", f"median {_f(r['median_s'], '{:.1f}')} s, worst {_f(r['worst_s'], '{:.1f}')} s "
                        f"of {r['samples']} ({r['channel']}, interval {r['interval_s']:g} s)", r["target"],
                        _mark(r["pass"])))
        elif key == "matcher" and isinstance(r.get("sizes"), dict) and r["sizes"]:
            largest = max(r["sizes"], key=int)
            big = r["sizes"][largest]
            out.append(("2. matcher", f"{int(largest):,} rules: {_f(big.get('matcher_paragraphs_per_s'))} paragraphs/s "
                        f"(one regex per rule: {_f(big.get('naive_paragraphs_per_s'), '{:,.1f}')}/s), compiled in "
                        f"{_f(big.get('compile_s'), '{:.2f}')} s; cost "
                        f"×{_f(r.get('cost_ratio_largest_vs_smallest'), '{:.2f}')} from "
                        f"{min(r['sizes'], key=int)} rules",
                        "10,000 rules cost ≤ 2× 10 rules",
                        _mark(_at_most(r.get("cost_ratio_largest_vs_smallest"), 2.0))))
        elif key == "stories" and isinstance(r.get("series"), list):
            per_item = {s["items"]: s["per_item_ms_median"] for s in r["series"] if s.get("series") == "store"}
            small, big = per_item.get(10_000), per_item.get(1_000_000)
            ratio = big / small if small and big else None
            out.append(("4. stories", f"per new item (story lookup, insert, band index) {_f(small, '{:.1f}')} ms "
                        f"median at 10,000 stored items, {_f(big, '{:.1f}')} ms at 1,000,000 "
                        f"(×{_f(ratio, '{:.2f}')})", "1,000,000 within 2× of 10,000", _mark(_at_most(ratio, 2.0))))
        else:
            summary = r.get("summary") or ", ".join(f"{k}={v}" for k, v in list(r.items())[:4]
                                                     if isinstance(v, int | float | str))
            out.append((key, str(summary)[:110], str(r.get("target", "")), _mark(r.get("pass"))))
    return out


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| benchmark | measured | target | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(results)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description="monitor benchmarks (figures, never pass/fail)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter intervals")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(k for k, *_ in BENCHES))
    parser.add_argument("--skip", default="")
    args = parser.parse_args(argv)
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    for key, module, full, quick in BENCHES:
        if (only and key not in only) or key in skip:
            continue
        print(f"bench: {key} ...", file=sys.stderr, flush=True)
        results[key] = run(key, module, quick if args.quick else full)
        print(f"bench: {key} done in {results[key].get('wall_s', 0):.1f} s", file=sys.stderr, flush=True)
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "quick": args.quick,
        "command": "make bench" + (" BENCH_ARGS=--quick" if args.quick else ""),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count(),
                    "load_avg": list(__import__("os").getloadavg())},
        "total_s": time.perf_counter() - started, "results": results,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "latest.json").write_text(json.dumps(document, ensure_ascii=False, indent=2))
    print(json.dumps(document, ensure_ascii=False, indent=2))
    print()
    print(table(results))
    print(f"\ntotal {document['total_s']:.0f} s; JSON in {OUT / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
