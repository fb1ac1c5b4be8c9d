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

from chaos.scenario import Plan, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--seed", type=int, default=None, help="repeat a run (default: time-based)")
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR and keep the database and logs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s chaos: %(message)s", stream=sys.stderr)
    seed = args.seed if args.seed is not None else int(time.time())
    plan = Plan.quick() if args.quick else Plan.full()
    started = time.monotonic()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result, stats = asyncio.run(run(plan, args.keep, seed))
    else:
        with tempfile.TemporaryDirectory(prefix="monitor-chaos-") as tmp:
            result, stats = asyncio.run(run(plan, Path(tmp), seed))
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
    print(json.dumps({"seed": seed, **result.as_dict(), **stats}, ensure_ascii=False))
    print("OK" if result.ok else "FAILED")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
