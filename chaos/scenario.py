"""The scripted chaos run: publish articles, break the servers, SIGKILL the daemon, and count at the end."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from pathlib import Path

from chaos.ledger import Figures, Ledger, console_receipts, figures, outbox
from chaos.proc import DaemonProcess
from chaos.world import World
from tests.servers.pages import FAULTS, PageServer

log = logging.getLogger("chaos")
RECIPIENT = "desk"


@dataclass(frozen=True)
class Plan:
    steps: int
    kill_p: float  # chance of a SIGKILL after a step
    fault_p: float  # chance of a new fault on the source server at a step
    settle_s: float = 180.0  # how long the healed world may take to deliver everything

    @classmethod
    def quick(cls) -> Plan:
        return cls(steps=8, kill_p=0.5, fault_p=0.5, settle_s=120.0)

    @classmethod
    def full(cls) -> Plan:
        return cls(steps=40, kill_p=0.35, fault_p=0.35)


def config_text(db: Path, world: World) -> str:
    return f"""[daemon]
database = "sqlite:///{db}"
node_id = "chaos"          # a restarted daemon takes its own source leases back at once
max_backoff = "2s"
delivery_lease = "2s"      # an interrupted send is retried 2 s after the crash instead of 60 s
log_level = "INFO"

{world.sources_toml()}
[[rules]]
name = "slovenia"
keyword = "{'Словения'}"

[[recipients]]
name = "{RECIPIENT}"
console = true
max_digest = 3             # small digests: many send/mark windows for the kills to fall into
"""


async def run(plan: Plan, workdir: Path, seed: int) -> tuple[Figures, dict[str, int]]:
    rng = random.Random(seed)
    db = workdir / "chaos.db"
    config = workdir / "config.toml"
    ledger = Ledger()
    stats = {"faults": 0, "kills_during_startup": 0, "exit_code_on_sigterm": -1}
    with PageServer() as server:
        world = World(server, rng)
        config.write_text(config_text(db, world), encoding="utf-8")
        daemon = DaemonProcess(config, workdir)
        daemon.start()
        if not await daemon.wait_ready():
            raise RuntimeError(f"the daemon did not start; see {daemon.stderr}")

        def receipts() -> list[tuple[str, str]]:
            return console_receipts(daemon.stdout)

        for step in range(plan.steps):
            for _ in range(rng.randint(1, 4)):
                article = world.publish(rng.choice(("rss", "html")), matching=rng.random() < 0.6)
                if article.matching:
                    ledger.expected.add((RECIPIENT, article.url))
            if rng.random() < plan.fault_p:
                kind = rng.choice(FAULTS)
                server.fail(kind, delay_s=rng.uniform(1.0, 4.0))
                stats["faults"] += 1
                log.info("step %d: source server fault %s", step, kind)
            elif rng.random() < 0.5:
                server.heal()
            await asyncio.sleep(rng.uniform(0.2, 2.5))
            if rng.random() < plan.kill_p:
                if not daemon.ready():
                    stats["kills_during_startup"] += 1
                await daemon.kill()
                ledger.after_kill(db, receipts())
                log.info("step %d: SIGKILL (%d so far)", step, ledger.restarts)
                await asyncio.sleep(rng.uniform(0.0, 1.0))
                daemon.start()
        server.heal()
        if not await daemon.wait_ready():
            raise RuntimeError(f"the daemon did not come back after the last kill; see {daemon.stderr}")
        await _settle(ledger, db, receipts, plan.settle_s)
        code = await daemon.stop()
        stats["exit_code_on_sigterm"] = -1 if code is None else code
        stats["internal_errors"] = _internal_errors(daemon.stderr)
        return figures(ledger, len(world.articles), receipts(), db, ledger.restarts), stats


async def _settle(ledger: Ledger, db: Path, receipts: object, timeout_s: float) -> None:
    """Wait until every expected alert arrived and the outbox holds nothing undelivered (or time is up)."""
    assert callable(receipts)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        got = set(receipts())
        rows = outbox(db)
        if ledger.expected <= got and rows and all(s == "delivered" for _r, _u, s in rows):
            return
        await asyncio.sleep(0.5)


def _internal_errors(stderr: Path) -> int:
    text = stderr.read_text(encoding="utf-8", errors="replace") if stderr.exists() else ""
    return text.count("unexpected error") + text.count("Traceback")
