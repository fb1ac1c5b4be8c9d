"""What the benchmarks share: output locations, timing, JSON printing, daemon configs and subprocesses."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.rulegen import rules_toml, toml_block

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable


def out_dir(name: str) -> Path:
    path = OUT / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def best_of(fn: Callable[[], float], repeat: int) -> float:
    """The fastest of `repeat` timings: on a shared machine the minimum is the least disturbed one."""
    return min(fn() for _ in range(repeat))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def emit(result: dict[str, Any]) -> dict[str, Any]:
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return result


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set size of a live process (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def daemon_config(database: str, *, sources: Sequence[dict[str, Any]], rules: int,
                  recipients: Sequence[dict[str, Any]] = (), extra: str = "", seed: int = 1) -> str:
    """A whole TOML config for `monitor run`."""
    head = f'[daemon]\ndatabase = {json.dumps(database)}\nlog_level = "INFO"\n{extra}\n'
    return (head + "".join(toml_block("sources", s) for s in sources) + rules_toml(rules, seed)
            + "".join(toml_block("recipients", r) for r in recipients))


def monitor_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def monitor_cmd(config: Path, *args: str) -> list[str]:
    return [PYTHON, "-m", "monitor", "--config", str(config), *args]
