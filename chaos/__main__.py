"""`python -m chaos [--quick] [--seed N] [--keep DIR]`: one chaos run; prints the figures, exit 1 if any alert
was lost or duplicated without a crash between its send and its mark."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from chaos.killloop import KillLoopResult, kill_loop, prepared_outbox
from chaos.ledger import Figures
from chaos.scenario import Plan, run


async def both(plan: Plan, workdir: Path, seed: int, quick: bool) -> tuple[Figures, dict[str, int], KillLoopResult]:
    """Phase 1: the daemon under faults and kills. Phase 2: SIGKILLs aimed at delivery itself."""
    figures, stats = await run(plan, workdir, seed)
    config, db = await prepared_outbox(workdir, 20 if quick else 100, seed)
    loop = await kill_loop(config, db, workdir / "killloop.receipts", seed=seed, max_kills=6 if quick else 40)
    return figures, stats, loop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--seed", type=int, default=None, help="repeat a run (default: time-based)")
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR and keep the database and logs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("chaos").setLevel(logging.INFO)
    seed = args.seed if args.seed is not None else int(time.time())
    plan = Plan.quick() if args.quick else Plan.full()
    started = time.monotonic()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result, stats, loop = asyncio.run(both(plan, args.keep, seed, args.quick))
    else:
        with tempfile.TemporaryDirectory(prefix="monitor-chaos-") as tmp:
            result, stats, loop = asyncio.run(both(plan, Path(tmp), seed, args.quick))
    labels = {
        "articles_published": "articles published", "alerts_expected": "alerts expected",
        "alerts_delivered": "alerts delivered", "duplicates": "duplicates", "lost": "lost",
        "restarts_survived": "restarts survived (SIGKILL)",
        "crashes_between_send_and_mark": "crashes between send and mark",
        "unexplained_duplicates": "duplicates without such a crash", "unexpected": "alerts nobody expected",
        "outbox_not_delivered": "outbox rows not delivered",
    }
    print(f"chaos run, seed {seed}, {'quick' if args.quick else 'full'}, {time.monotonic() - started:.0f} s")
    for key, label in labels.items():
        print(f"  {label:<36} {getattr(result, key)}")
    for key, value in stats.items():
        print(f"  {key.replace('_', ' '):<36} {value}")
    loop_ok = loop.finished and loop.lost == 0 and loop.unexplained_duplicates == 0
    loop_figures = {"alerts": len(loop.ids), "sigkills": loop.kills, "lost": loop.lost,
                    "duplicates": loop.duplicates, "crashes_between_send_and_mark": loop.crashes_between_send_and_mark,
                    "duplicates_without_such_a_crash": loop.unexplained_duplicates,
                    "delivered_rows": loop.statuses.get("delivered", 0)}
    print("kill loop on delivery (SIGKILL at random points of deliver_due, receipts fsync'd by the channel)")
    for key, value in loop_figures.items():
        print(f"  {key.replace('_', ' '):<36} {value}")
    print(json.dumps({"seed": seed, **result.as_dict(), **stats,
                      "kill_loop": {**loop_figures, "ok": loop_ok}}, ensure_ascii=False))
    ok = result.ok and loop_ok
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
