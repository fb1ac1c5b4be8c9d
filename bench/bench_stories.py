"""Cost per new item of story lookup (signature + LSH band query + verification + index insert) as the store
grows, on a real SQLite file migrated by Alembic. Prints JSON.

Two series:
- store: N items in the store (10k, 1M), of which the last `window` items (default 10k: ~3 days at ~3,300
  items a day) carry band rows. Older items keep no band rows (prune deletes them daily): they can never be
  candidates, so the lookup does not see them. This is the production shape.
- window: every stored item carries band rows (10k, 100k): what a much longer `story_window`, or ten times
  the traffic, would cost. Lookups read the band buckets of the new item's keys; their size grows with the
  items in the window.

Synthetic items are built fast (sqlite3 executemany). Their band keys mix random keys with real band keys of
the labelled corpus (tests/fixtures/stories) at the rate measured there: 11% of unrelated real documents share
at least one band with a given document, so 11% of window items come up as (mostly wrong) candidates, as they
would in production. Window items carry real paragraphs as text, so verification reads real text.

    .venv/bin/python -m bench.bench_stories [--sizes 10000,1000000] [--window-sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.eval_stories import corpus
from monitor.models import Article
from monitor.signatures import unit_bands, units
from monitor.store.db import make_engine, sessionmaker, upgrade
from monitor.store.tables import ItemRow, StoryRow
from monitor.stories import StoryIndex

KEYS_PER_ITEM = 120  # median distinct band keys of a labelled document
COLLIDE = 0.11  # measured share of unrelated documents sharing a band with a given one


def _pool_keys(docs: list[object]) -> list[int]:
    keys: set[int] = set()
    for d in docs:
        for u in units(d.title, d.paragraphs):  # type: ignore[attr-defined]
            keys.update(unit_bands(u))
    return sorted(keys)


def build(path: Path, total: int, banded: int, pool: list[int], paragraphs: list[str], now: datetime) -> float:
    """total items, the last `banded` of them in the window with band rows. Returns seconds taken."""
    started = time.perf_counter()
    rng = random.Random(total * 31 + banded)
    # a stored item shares keys with the pool so that P(share ≥ 1 with a real doc of K keys) ≈ COLLIDE
    per_item = max(1, round(-len(pool) * __import__("math").log(1 - COLLIDE) / KEYS_PER_ITEM))
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    old = (now - timedelta(days=60)).replace(tzinfo=None)
    recent = (now - timedelta(hours=12)).replace(tzinfo=None)
    chunk = 20_000
    for start in range(1, total + 1, chunk):
        ids = range(start, min(total, start + chunk - 1) + 1)
        con.executemany("INSERT INTO stories (id, created_at, title) VALUES (?, ?, 't')",
                        [(i, old) for i in ids])
        rows = []
        bands = []
        for i in ids:
            in_window = i > total - banded
            text = "\n".join(rng.sample(paragraphs, 2)) if in_window else "x"
            rows.append((i, "synthetic", f"https://x/{i}", "t", recent if in_window else old, text,
                         f"{i:064x}", i, 1))
            if in_window:
                keys = set(rng.sample(pool, per_item))
                keys.update(rng.getrandbits(63) for _ in range(KEYS_PER_ITEM - per_item))
                bands.extend((k, i) for k in keys)
        con.executemany("INSERT INTO items (id, source, url, title, fetched_at, text, content_hash, story_id,"
                        " version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.executemany("INSERT OR IGNORE INTO story_bands (band, item_id) VALUES (?, ?)", bands)
        con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()
    return time.perf_counter() - started


async def measure(url: str, queries: list[Article], now: datetime) -> dict[str, float]:
    engine = make_engine(url)
    sessions = sessionmaker(engine)
    index = StoryIndex()
    timings: list[float] = []
    lookups: list[float] = []
    for article in queries * 2:
        async with sessions() as session, session.begin():
            t0 = time.perf_counter()
            batch = await index.lookup(session, [article], now)
            story_id = batch.place(0, None)
            t1 = time.perf_counter()
            if story_id < 0:  # a new story
                story = StoryRow(created_at=now, title=article.title)
                session.add(story)
                await session.flush()
                story_id = story.id
            batch.resolve([story_id])
            item = ItemRow(source="q", url=article.url, title=article.title, published_at=None, fetched_at=now,
                           text=article.text, content_hash=article.content_hash, story_id=story_id, version=1)
            session.add(item)
            await session.flush()
            await index.remember(session, batch, [item.id])
            timings.append(time.perf_counter() - t0)
            lookups.append(t1 - t0)
            await session.rollback()  # keep the store as built: every query sees the same store
    await engine.dispose()
    warm = timings[len(queries):]  # the first round warms the lemma cache, as a running daemon has
    warm_lookups = lookups[len(queries):]
    return {"per_item_ms_median": round(statistics.median(warm) * 1000, 2),
            "per_item_ms_p90": round(sorted(warm)[int(len(warm) * 0.9)] * 1000, 2),
            "find_ms_median": round(statistics.median(warm_lookups) * 1000, 2)}


async def run(sizes: list[int], window_sizes: list[int], window: int) -> dict[str, object]:
    docs = corpus()
    pool = _pool_keys(docs)
    paragraphs = [p for d in docs for p in d.paragraphs if len(p) > 200]
    now = datetime.now(UTC)
    from monitor.dedup import content_hash

    queries = [Article("q", f"https://q/{d.id}", d.title, d.paragraphs, None,
                       content_hash(d.title, (*d.paragraphs, d.id))) for d in docs]
    out: dict[str, object] = {"queries": len(queries), "pool_keys": len(pool), "series": []}
    series: list[dict[str, object]] = []
    plan = [("store", n, min(n, window)) for n in sizes] + [("window", n, n) for n in window_sizes]
    for kind, total, banded in plan:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            url = f"sqlite:///{path}"
            await upgrade(url)
            built = await asyncio.to_thread(build, path, total, banded, pool, paragraphs, now)
            figures = await measure(url, queries, now)
            series.append({"series": kind, "items": total, "items_with_bands": banded,
                           "build_s": round(built, 1), "db_mb": round(path.stat().st_size / 1e6, 1), **figures})
            print(json.dumps(series[-1]), flush=True)
    out["series"] = series
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--window-sizes", default="10000,100000")
    parser.add_argument("--window", type=int, default=10_000, help="items with band rows in the store series")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    window_sizes = [int(s) for s in args.window_sizes.split(",") if s]
    print(json.dumps(asyncio.run(run(sizes, window_sizes, args.window)), indent=1))


if __name__ == "__main__":
    main()
