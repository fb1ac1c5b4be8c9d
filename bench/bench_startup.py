"""6. Start-up: `monitor run` from spawn to READY with 10,000 rules.

    python -m bench.bench_startup [--rules 10000] [--runs 3] [--quick] [--profile]

READY is the sd_notify datagram on NOTIFY_SOCKET (monitor.sdnotify) when the daemon sends one, otherwise its
"started:" log line. The database is migrated before the timed runs (a first start also migrates; that is
timed separately). For scale the same run reports the interpreter importing monitor.cli and compiling the
rules in-process. --profile writes a pyinstrument profile of the in-process start (if pyinstrument is
installed) to bench/out/startup/profile.txt.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from typing import Any

from bench.common import PYTHON, ROOT, DaemonProcess, daemon_config, emit, median, monitor_cmd, monitor_env, out_dir
from bench.rulegen import specs

TARGET_S = 3.0


def _write_config(rules: int) -> tuple[Any, Any]:
    work = out_dir("startup")
    db = work / "startup.db"
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    config = work / f"startup-{rules}.toml"
    # One source on a closed local port with a long interval: start-up, not polling, is measured.
    config.write_text(daemon_config(f"sqlite:///{db}", sources=[{"name": "idle", "kind": "rss",
                                                                  "url": "http://127.0.0.1:9/feed.xml",
                                                                  "interval": "6h"}],
                                    rules=rules, recipients=[{"name": "desk", "console": True}]))
    config.chmod(0o600)
    return config, db


def one_start(config: Any) -> tuple[float, str | None]:
    daemon = DaemonProcess(config).start()
    try:
        seconds = daemon.wait_ready()
    finally:
        daemon.stop()
    return seconds, daemon.ready_via


def in_process(rules: int) -> dict[str, float]:
    code = ("import time; t=time.perf_counter(); import monitor.cli, monitor.daemon; t1=time.perf_counter();"
            f"from bench.rulegen import specs; s=specs({rules}); t2=time.perf_counter();"
            "from monitor.rules import compile_rules; compile_rules(s); t3=time.perf_counter();"
            "print(t1-t, t3-t2)")
    start = time.perf_counter()
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, cwd=ROOT, env=monitor_env(),
                         check=True).stdout.split()
    total = time.perf_counter() - start
    return {"interpreter_and_imports_s": float(out[0]), "compile_rules_s": float(out[1]),
            "process_total_s": total}


def profile(rules: int) -> str | None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    from monitor.rules import compile_rules

    rule_specs = specs(rules)
    profiler = Profiler()
    profiler.start()
    compile_rules(rule_specs)
    profiler.stop()
    path = out_dir("startup") / "profile.txt"
    path.write_text(profiler.output_text(unicode=True, color=False))
    return str(path)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench.bench_startup")
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 runs")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    runs = 2 if args.quick else args.runs
    config, _db = _write_config(args.rules)
    first, via = one_start(config)  # migrates the fresh database too
    subprocess.run(monitor_cmd(config, "db", "upgrade"), cwd=ROOT, env=monitor_env(), capture_output=True,
                   check=True)
    times = [one_start(config)[0] for _ in range(runs)]
    result: dict[str, Any] = {
        "name": "startup", "rules": args.rules, "ready_via": via, "first_start_with_migration_s": first,
        "runs_s": times, "median_s": median(times), "worst_s": max(times),
        **in_process(args.rules),
        "target": f"< {TARGET_S:g} s", "pass": median(times) < TARGET_S,
    }
    if args.profile:
        result["profile"] = profile(args.rules)
    return result


if __name__ == "__main__":
    emit(main(sys.argv[1:]))
