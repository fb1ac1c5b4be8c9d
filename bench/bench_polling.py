"""3. Polling: 1,000 sources on a local site farm, monitor's real Runtime + run_source against urlwatch 2.29.

    python -m bench.bench_polling [--sources 1000] [--quick] [--no-urlwatch]

Round 1: every source lists 5 new articles; monitor fetches the listing and the 5 pages, extracts, stores and
matches (SQLite). Round 2: every listing answers 304. All sources start at once, as the daemon's scheduler
starts them; the bound is the daemon's own (monitor.runtime.MAX_CONCURRENT_POLLS polls at once, 2 requests per
host). urlwatch runs the same 1,000 listing URLs (listings only: it has no notion of article pages) with its
worker pool set to the same size as that bound, from its own venv (bench/.venv-urlwatch, created on first use with
`pip install urlwatch==2.29`). Every server is its own port on 127.0.0.1, served by bench.server in another
process; that server is measured alone too. Targets: our round 1 faster than urlwatch's round 1, our 304
round ≥ 5× faster than our round 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Farm, cpu_seconds, daemon_config, emit, out_dir, raw_load
from monitor.runtime import MAX_CONCURRENT_POLLS

URLWATCH_VENV = ROOT / "bench" / ".venv-urlwatch"
URLWATCH_VERSION = "2.29"
# urlwatch's worker pool = monitor's bound on polls running at once (monitor.runtime.MAX_CONCURRENT_POLLS)
CONCURRENCY = MAX_CONCURRENT_POLLS
# Runs urlwatch's own CLI with its worker pool resized, timing only its job run (not interpreter start-up).
URLWATCH_WRAPPER = """
import sys, time, json
import urlwatch.worker as worker
worker.MAX_WORKERS = int(sys.argv.pop(1))
original = worker.run_jobs
def timed(urlwatcher):
    start = time.perf_counter()
    try:
        return original(urlwatcher)
    finally:
        sys.stderr.write("BENCH_RUN_JOBS_S=%f\\n" % (time.perf_counter() - start))
worker.run_jobs = timed
import urlwatch.main
urlwatch.main.run_jobs = timed
from urlwatch.cli import main
sys.argv[0] = "urlwatch"
main()
"""


def ensure_urlwatch() -> Path:
    python = URLWATCH_VENV / "bin" / "python"
    probe = [str(python), "-c", f"import urlwatch; assert urlwatch.__version__ == '{URLWATCH_VERSION}'"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    shutil.rmtree(URLWATCH_VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(URLWATCH_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", f"urlwatch=={URLWATCH_VERSION}"], check=True)
    return python


def run_urlwatch(python: Path, urls: list[str], workdir: Path) -> dict[str, Any]:
    for name in ("cache.db", "urls.yaml", "urlwatch.yaml", "hooks.py"):
        (workdir / name).unlink(missing_ok=True)
    (workdir / "urls.yaml").write_text("\n---\n".join(f"name: s{i}\nurl: {u}" for i, u in enumerate(urls)) + "\n")
    (workdir / "hooks.py").write_text("")
    (workdir / "wrapper.py").write_text(URLWATCH_WRAPPER)
    cmd = [str(python), str(workdir / "wrapper.py"), str(CONCURRENCY), "--urls", str(workdir / "urls.yaml"),
           "--config", str(workdir / "urlwatch.yaml"), "--hooks", str(workdir / "hooks.py"),
           "--cache", str(workdir / "cache.db")]
    rounds = []
    for _ in range(2):
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, timeout=600)
        wall = time.perf_counter() - start
        jobs_s = [float(line.split("=", 1)[1]) for line in done.stderr.splitlines()
                  if line.startswith("BENCH_RUN_JOBS_S=")]
        if done.returncode != 0 or not jobs_s:
            raise RuntimeError(f"urlwatch failed ({done.returncode}): {done.stderr[-2000:]}")
        rounds.append({"seconds": jobs_s[0], "process_wall_s": wall, "requests": len(urls),
                       "requests_per_s": len(urls) / jobs_s[0]})
    return {"round1": rounds[0], "round2_304": rounds[1]}


async def run_monitor(farm: Farm, sources: int, db: Path) -> dict[str, Any]:
    from monitor.config import parse_config
    from monitor.pipeline import run_source
    from monitor.runtime import build_runtime

    blocks = [{"name": f"s{i}", "kind": "html", "url": farm.url(i), "item": "article.card", "link": "a",
               "date": "time", "interval": "10m"} for i in range(sources)]
    config = parse_config(daemon_config(f"sqlite:///{db}", sources=blocks, rules=10,
                                        recipients=[{"name": "desk", "console": True}]), "bench.toml")
    rt = await build_runtime(config)
    rounds = []
    try:
        for label in ("round1", "round2_304"):
            before = json.loads(farm.control_get("/_ctl/stats"))
            start = time.perf_counter()
            results = await asyncio.gather(*(run_source(rt, name, force=True) for name in rt.sources))
            elapsed = time.perf_counter() - start
            after = json.loads(farm.control_get("/_ctl/stats"))
            requests = sum(after.values()) - sum(before.values()) - 1  # the stats call itself
            failed = [r for r in results if not r.ok]
            rounds.append((label, {
                "seconds": elapsed, "requests": requests, "requests_per_s": requests / elapsed,
                "new_items": sum(r.new_items for r in results), "failed_sources": len(failed),
                "first_error": failed[0].error if failed else None,
                "statuses": {k: after.get(k, 0) - before.get(k, 0) for k in after},
            }))
    finally:
        await rt.aclose()
    return dict(rounds)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench.bench_polling")
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="200 sources")
    parser.add_argument("--no-urlwatch", action="store_true")
    args = parser.parse_args(argv)
    sources = 200 if args.quick else args.sources
    work = out_dir("polling")
    db = work / "polling.db"
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    result: dict[str, Any] = {"name": "polling", "sources": sources, "concurrency": CONCURRENCY}
    with Farm(sources) as farm:
        listings = [farm.url(i) for i in range(sources)]
        pages = [farm.url(i, f"/news-{i + sources * k}.html") for i in range(sources) for k in range(5)]
        cpu0 = cpu_seconds(farm.pid)
        wall = asyncio.run(raw_load(listings + pages, CONCURRENCY))
        server_cpu = cpu_seconds(farm.pid) - cpu0
        n = len(listings) + len(pages)
        result["server_alone"] = {"requests": n, "raw_client_wall_s": wall, "requests_per_s": n / wall,
                                  "server_cpu_s": server_cpu, "server_capacity_rps": n / max(server_cpu, 1e-3)}
        cpu0 = cpu_seconds(farm.pid)
        ours = asyncio.run(run_monitor(farm, sources, db))
        ours["server_cpu_s"] = cpu_seconds(farm.pid) - cpu0
        result["monitor"] = ours
        if not args.no_urlwatch:
            try:
                python = ensure_urlwatch()
                result["urlwatch"] = run_urlwatch(python, listings, work)
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                result["urlwatch"] = {"error": str(exc)[-500:]}
    r1, r2 = ours["round1"]["seconds"], ours["round2_304"]["seconds"]
    result["ratio_304_speedup"] = r1 / r2
    uw = result.get("urlwatch", {}).get("round1", {}).get("seconds")
    result["ratio_vs_urlwatch"] = (uw / r1) if uw else None
    result["target"] = "round 1 faster than urlwatch's; 304 round ≥ 5× faster than round 1"
    result["pass"] = bool(uw and r1 < uw and r1 / r2 >= 5)
    return result


if __name__ == "__main__":
    emit(main(sys.argv[1:]))
