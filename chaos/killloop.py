"""SIGKILL at random points of delivery, until the outbox is empty; then check exactly-once from the receipts.

Each round starts chaos.deliverer, lets it work for a random moment and kills it (SIGKILL). After each kill,
the rows still `sending` whose ids are already in the receipt file are the crashes that fell between send and
mark: only those rows may be received twice (once per such crash). A round that ends by itself ends the loop.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class KillLoopResult:
    ids: frozenset[int] = frozenset()
    kills: int = 0
    rounds: int = 0
    finished: bool = False
    crashes_between_send_and_mark: int = 0
    at_risk: Counter[int] = field(default_factory=Counter)
    received: Counter[int] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def lost(self) -> int:
        return sum(1 for oid in self.ids if not self.received[oid])

    @property
    def duplicates(self) -> int:
        return sum(c - 1 for c in self.received.values() if c > 1)

    @property
    def unexplained_duplicates(self) -> int:
        return sum(max(0, c - 1 - self.at_risk[oid]) for oid, c in self.received.items())


def _receipts(path: Path) -> Counter[int]:
    text = path.read_text() if path.exists() else ""
    return Counter(int(line.split()[0]) for line in text.splitlines() if line.strip())


def outbox_statuses(db: Path) -> Counter[str]:
    return Counter(status for _oid, status in _outbox(db))


def _outbox(db: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return [(int(i), str(s)) for i, s in conn.execute("SELECT id, status FROM outbox")]


async def _one_round(proc: asyncio.subprocess.Process, result: KillLoopResult, db: Path, receipts: Path,
                     rng: random.Random, max_kills: int, kill_after_s: tuple[float, float]) -> None:
    assert proc.stdout is not None
    await proc.stdout.readline()  # "ready": runtime built, about to deliver
    if result.kills >= max_kills:  # enough: let this one finish the outbox
        result.finished = await proc.wait() == 0
        return
    try:
        code = await asyncio.wait_for(proc.wait(), rng.uniform(*kill_after_s))
    except TimeoutError:
        proc.kill()  # SIGKILL
        await proc.wait()
        result.kills += 1
        got = _receipts(receipts)
        caught = {oid for oid, status in _outbox(db) if status == "sending" and got[oid]}
        if caught:
            result.crashes_between_send_and_mark += 1
            result.at_risk.update(caught)
        return
    if code != 0:
        raise RuntimeError(f"chaos.deliverer exited with {code}")
    result.finished = True


async def prepared_outbox(workdir: Path, alerts: int, seed: int) -> tuple[Path, Path]:
    """A config and a database whose outbox holds `alerts` pending alerts, made by the real pipeline."""
    from monitor.config import load_config
    from monitor.pipeline import run_source
    from monitor.runtime import build_runtime
    from tests.servers.pages import PageServer, Route

    rng = random.Random(seed)
    db, config = workdir / "killloop.db", workdir / "killloop.toml"
    def words(n: int) -> str:  # made-up words: every item its own story, never grouped with another
        return " ".join("".join(rng.choice("бвгдзклмнпрст") + rng.choice("аеиоу") for _ in range(3))
                        for _ in range(n))

    items = "".join(f"<item><title>{words(4)} {i}</title><link>http://example.org/{i}</link>"
                    f"<description>&lt;p&gt;{words(8)} Словения {words(8)}.&lt;/p&gt;</description>"
                    f"</item>" for i in range(alerts))
    with PageServer() as server:
        server.routes["/feed"] = Route(f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'
                                       .encode())
        config.write_text(f"""[daemon]
database = "sqlite:///{db}"
delivery_lease = "300ms"   # a row left `sending` by a killed sender is taken up again 0.3 s later

[[sources]]
name = "feed"
kind = "rss"
url = "{server.url('/feed')}"
max_items = {alerts}

[[rules]]
name = "slovenia"
keyword = "Словения"

[[recipients]]
name = "desk"
console = true
max_digest = 2
""", encoding="utf-8")
        rt = await build_runtime(load_config(config))
        try:
            await run_source(rt, "feed", force=True)
        finally:
            await rt.aclose()
    return config, db


async def kill_loop(config: Path, db: Path, receipts: Path, *, seed: int, max_kills: int,
                    kill_after_s: tuple[float, float] = (0.0, 0.5), window_ms: float = 40.0) -> KillLoopResult:
    rng = random.Random(seed)
    result = KillLoopResult(ids=frozenset(oid for oid, _status in _outbox(db)))
    while not result.finished:
        result.rounds += 1
        if result.rounds > max_kills + 5:
            raise RuntimeError("chaos.deliverer keeps failing without being killed; see its stderr")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chaos.deliverer", str(config), str(receipts), "--window-ms", str(window_ms),
            "--seed", str(rng.getrandbits(32)), stdout=asyncio.subprocess.PIPE, cwd=REPO,  # chaos/ importable
        )
        try:
            await _one_round(proc, result, db, receipts, rng, max_kills, kill_after_s)
        finally:
            if proc.returncode is None:  # the harness itself failed: leave no child behind
                proc.kill()
                await proc.wait()
    result.received = _receipts(receipts)
    result.statuses = outbox_statuses(db)
    return result
