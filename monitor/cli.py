"""`monitor` commands (see README). Every command takes --config (default $MONITOR_CONFIG or ./config.toml)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from monitor.config import Config, load_config, parse_duration
from monitor.errors import ConfigError

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def _config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("MONITOR_CONFIG") or "config.toml")


def _load(args: argparse.Namespace) -> Config:
    return load_config(_config_path(args))


async def cmd_check(args: argparse.Namespace) -> int:
    from monitor.filemode import exposure_warning

    config = _load(args)
    if warning := exposure_warning(_config_path(args)):
        print(warning, file=sys.stderr)
    print(f"{_config_path(args)}: ok — {len(config.sources)} sources, {len(config.rules)} rules, "
          f"{len(config.recipients)} recipients")
    return 0


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """glibc gives each thread that allocates its own malloc arena (up to 8 per core), and freed memory stays
    in the arena it came from: with an aiosqlite thread per pooled connection, the daemon's peak RSS was
    ~30 MB higher (bench_memory). Same effect as MALLOC_ARENA_MAX=2; an explicit MALLOC_ARENA_MAX wins.
    False where there is no glibc (musl, macOS): nothing to limit there."""
    if "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_arena_max = -8  # from glibc's malloc.h
    return bool(libc.mallopt(m_arena_max, arenas))


async def cmd_run(args: argparse.Namespace) -> int:
    from monitor.daemon import Daemon

    limit_malloc_arenas()  # before the daemon starts any thread
    return await Daemon(_config_path(args), _load(args)).run()


async def cmd_once(args: argparse.Namespace) -> int:
    from monitor.ops import run_once

    return await run_once(_load(args), dry_run=args.dry_run, only=args.source)


async def cmd_status(args: argparse.Namespace) -> int:
    from monitor.ops import print_status

    return await print_status(_load(args))


async def cmd_match(args: argparse.Namespace) -> int:
    from monitor.matchcli import run_match

    return run_match(Path(args.rules), as_json=args.json)


async def cmd_explain(args: argparse.Namespace) -> int:
    from monitor.matchcli import run_explain

    return run_explain(Path(args.rules), args.rule, " ".join(args.text))


async def cmd_digest(args: argparse.Namespace) -> int:
    from monitor.ops import preview_digest

    return await preview_digest(_load(args), args.preview)


async def cmd_test_channel(args: argparse.Namespace) -> int:
    from monitor.ops import test_channel

    return await test_channel(_load(args), args.recipient)


async def cmd_backfill(args: argparse.Namespace) -> int:
    from monitor.ops import backfill

    return await backfill(_load(args), args.rule, parse_duration(args.since))


async def cmd_db(args: argparse.Namespace) -> int:
    from monitor.store.db import upgrade

    config = _load(args)
    await upgrade(config.daemon.database)
    print("database schema is up to date")
    return 0


async def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    return await run_demo()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description="News monitoring with Russian-aware rules.")
    parser.add_argument("--config", help="config file (default: $MONITOR_CONFIG or ./config.toml)")
    parser.add_argument("--log-level", default=None, choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", default=argparse.SUPPRESS, help="config file")
        p.set_defaults(handler=handler)
        return p

    add("run", cmd_run, "run the daemon (upgrades the database first)")
    add("check", cmd_check, "validate the config file; exit 2 if invalid")
    p = add("once", cmd_once, "poll every source once, then deliver what is due")
    p.add_argument("--dry-run", action="store_true", help="print the digests instead of sending them")
    p.add_argument("--source", help="only this source")
    add("status", cmd_status, "sources and the outbox at a glance")
    p = add("match", cmd_match, "match JSON lines {id,title,text} from stdin against rules")
    p.add_argument("--rules", required=True, help="TOML file with [[rules]] (a whole config works)")
    p.add_argument("--json", action="store_true", help="one JSON object per match")
    p = add("explain", cmd_explain, "say why a text matches a rule or not")
    p.add_argument("--rules", required=True)
    p.add_argument("--rule", required=True)
    p.add_argument("text", nargs="+")
    p = add("digest", cmd_digest, "render the next digest of a recipient without sending it")
    p.add_argument("--preview", required=True, metavar="RECIPIENT")
    p = add("test-channel", cmd_test_channel, "send a test message to a recipient")
    p.add_argument("recipient")
    p = add("backfill", cmd_backfill, "run a rule over stored items and enqueue its alerts")
    p.add_argument("--rule", required=True)
    p.add_argument("--since", default="7d")
    p = add("db", cmd_db, "database maintenance")
    p.add_argument("action", choices=["upgrade"])
    add("demo", cmd_demo, "offline demo: local sample sources, sample rules, alerts on the console")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from monitor.logs import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging(args.log_level or os.environ.get("MONITOR_LOG_LEVEL", "INFO"))
    handler: Handler = args.handler
    try:
        return asyncio.run(handler(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
