"""5. Memory: peak RSS (VmHWM) of `monitor run` with 1,000 sources, 10,000 rules and 1,000,000 stored items.

    python -m bench.bench_memory [--items 1000000] [--sources 1000] [--rules 10000] [--quick]

The stored items are written straight into a database migrated by Alembic (sqlite3 executemany, one
transaction) and cached as bench/out/memory/items-N.db; each run copies it, so the daemon always meets the
same million rows. The daemon then runs one full round against the local site farm (listing + 5 new
articles per source), and VmHWM is read from /proc while it is still alive. Target: < 250 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import corpus
from bench.common import ROOT, DaemonProcess, Farm, daemon_config, emit, monitor_cmd, monitor_env, out_dir, vm_hwm_mb
from monitor.store.db import HEAD

TARGET_MB = 250.0
BATCH = 50_000


def build_items_db(path: Path, items: int, sources: int) -> float:
    """A migrated SQLite file holding `items` items (one story each). Seconds taken; 0 when cached."""
    if path.exists():
        return 0.0
    start = time.perf_counter()
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    config = path.with_suffix(".toml")
    config.write_text(daemon_config(f"sqlite:///{tmp}", sources=[], rules=0))
    subprocess.run(monitor_cmd(config, "db", "upgrade"), cwd=ROOT, env=monitor_env(), check=True,
                   capture_output=True)
    paras = corpus.paragraphs()
    base = datetime(2026, 5, 1, tzinfo=UTC).replace(tzinfo=None)
    conn = sqlite3.connect(tmp)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        for at in range(0, items, BATCH):
            ids = range(at + 1, min(items, at + BATCH) + 1)
            when = [(base + timedelta(seconds=15 * i)).isoformat(sep=" ") for i in ids]
            conn.executemany("INSERT INTO stories (id, created_at, title) VALUES (?, ?, ?)",
                             [(i, w, f"Новость {i}") for i, w in zip(ids, when, strict=True)])
            conn.executemany(
                "INSERT INTO items (id, source, url, title, published_at, fetched_at, text, content_hash, story_id,"
                " version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                [(i, f"s{i % sources}", f"https://old{i % sources}.example/news/{i}.html", f"Новость {i}", w, w,
                  paras[i % len(paras)] + f" ({i})", hashlib.sha256(str(i).encode()).hexdigest(), i)
                 for i, w in zip(ids, when, strict=True)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    return time.perf_counter() - start


def _count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def _polled_sources(db: Path) -> int:
    return _count(db, "SELECT count(*) FROM sources WHERE last_poll_at IS NOT NULL")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench.bench_memory")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="100,000 items, 200 sources")
    parser.add_argument("--round-timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    items = 100_000 if args.quick else args.items
    sources = 200 if args.quick else args.sources
    work = out_dir("memory")
    cached = work / f"items-{items}-{HEAD}.db"  # rebuilt when a migration is added
    build_s = build_items_db(cached, items, sources)
    db = work / "daemon.db"
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(cached, db)
    result: dict[str, Any] = {"name": "memory", "items": items, "sources": sources, "rules": args.rules,
                              "db_build_s": build_s, "db_mb": round(db.stat().st_size / 2**20, 1)}
    with Farm(sources) as farm:
        config = work / "memory.toml"
        blocks = [{"name": f"s{i}", "kind": "html", "url": farm.url(i), "item": "article.card", "link": "a",
                   "date": "time", "interval": "1h"} for i in range(sources)]
        config.write_text(daemon_config(f"sqlite:///{db}", sources=blocks, rules=args.rules,
                                        recipients=[{"name": "desk", "console": True, "schedule": "0 9 * * 1"}]))
        config.chmod(0o600)
        with DaemonProcess(config) as daemon:
            result["ready_s"] = daemon.wait_ready(180)
            result["rss_at_ready_mb"] = vm_hwm_mb(daemon.pid)
            start = time.perf_counter()
            polled = 0
            while time.perf_counter() - start < args.round_timeout:
                polled = _polled_sources(db)
                if polled >= sources:
                    break
                time.sleep(0.5)
            result["round_s"] = time.perf_counter() - start
            result["sources_polled"] = polled
            result["requests_served"] = sum(json.loads(farm.control_get("/_ctl/stats")).values())
            result["items_stored_in_round"] = _count(db, f"SELECT count(*) FROM items WHERE id > {items}")
            result["peak_rss_mb"] = vm_hwm_mb(daemon.pid)
    peak = result["peak_rss_mb"]
    result["target"] = f"< {TARGET_MB:g} MB"
    result["pass"] = peak is not None and peak < TARGET_MB
    return result


if __name__ == "__main__":
    emit(main(sys.argv[1:]))
