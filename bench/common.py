"""What the benchmarks share: output locations, timing, JSON printing, daemon configs and subprocesses."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
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


class Farm:
    """bench.server in a subprocess: `with Farm(sources=1000) as farm: farm.url(i)`."""

    def __init__(self, sources: int, *, ports: int | None = None, per_source: int = 5, style: str = "generic",
                 seed: int = 3, distinct: bool = False) -> None:
        self.args = ["--sources", str(sources), "--per-source", str(per_source), "--style", style,
                     "--seed", str(seed)] + (["--ports", str(ports)] if ports else []) + \
            (["--distinct"] if distinct else [])
        self.ports: list[int] = []
        self.control = 0
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Farm:
        self.proc = subprocess.Popen([PYTHON, "-m", "bench.server", *self.args], stdout=subprocess.PIPE, text=True,
                                     cwd=ROOT, env=monitor_env())
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.ports, self.control = info["ports"], info["control"]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)

    def url(self, source: int, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.ports[source % len(self.ports)]}/s{source}{path}"

    def control_get(self, path: str) -> str:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.control}{path}", timeout=10) as response:
            return str(response.read().decode())

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


async def raw_load(urls: Sequence[str], concurrency: int) -> float:
    """GET every URL over keep-alive connections with a minimal asyncio client; seconds. Measures the server."""
    import asyncio
    from urllib.parse import urlsplit

    queue: asyncio.Queue[str] = asyncio.Queue()
    for u in urls:
        queue.put_nowait(u)
    conns: dict[tuple[int, str], tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

    async def worker(wid: int) -> None:
        while not queue.empty():
            u = queue.get_nowait()
            parts = urlsplit(u)
            key = (wid, parts.netloc)
            if key not in conns:
                conns[key] = await asyncio.open_connection(parts.hostname, parts.port)
            reader, writer = conns[key]
            writer.write(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - start
    for _reader, writer in conns.values():
        writer.close()
    return elapsed


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process so far (to tell whether a server was the bottleneck)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DaemonProcess:
    """`monitor run` as a subprocess: READY from an sd_notify datagram (NOTIFY_SOCKET) when the daemon sends one,
    else from its "started:" log line; stdout/stderr lines are kept with their arrival times."""

    def __init__(self, config: Path) -> None:
        import socket
        import tempfile
        import threading

        self.config = config
        self.lines: list[tuple[float, str, str]] = []  # (perf_counter, stream, line)
        self.ready_at: float | None = None
        self.ready_via: str | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._sockdir = tempfile.mkdtemp(prefix="bench-notify-")
        self.notify_path = os.path.join(self._sockdir, "notify")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.notify_path)
        self._sock.settimeout(0.2)
        self.proc: subprocess.Popen[str] | None = None
        self.started_at = 0.0
        self._threads: list[threading.Thread] = []

    def _mark_ready(self, via: str) -> None:
        with self._lock:
            if self.ready_at is None:
                self.ready_at, self.ready_via = time.perf_counter(), via
        self._ready.set()

    def _read_notify(self) -> None:
        while self.proc is not None and self.proc.poll() is None:
            try:
                data = self._sock.recv(4096)
            except OSError:
                continue
            if b"READY=1" in data.split(b"\n"):
                self._mark_ready("sd_notify")

    def _read(self, stream: Any, name: str) -> None:
        for line in stream:
            now = time.perf_counter()
            with self._lock:
                self.lines.append((now, name, line.rstrip("\n")))
            if name == "stderr" and "started:" in line:
                self._mark_ready("log")

    def start(self) -> DaemonProcess:
        import threading

        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(monitor_cmd(self.config, "run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=ROOT, env=monitor_env(NOTIFY_SOCKET=self.notify_path))
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, "stdout"), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, "stderr"), daemon=True),
                         threading.Thread(target=self._read_notify, daemon=True)]
        for t in self._threads:
            t.start()
        return self

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds from spawn to READY."""
        if not self._ready.wait(timeout):
            raise RuntimeError("the daemon did not become ready:\n" + self.tail())
        assert self.ready_at is not None
        return self.ready_at - self.started_at

    def grep(self, text: str, stream: str | None = None) -> list[tuple[float, str]]:
        with self._lock:
            return [(t, line) for t, s, line in self.lines if text in line and (stream is None or s == stream)]

    def tail(self, n: int = 30) -> str:
        with self._lock:
            return "\n".join(line for _t, _s, line in self.lines[-n:])

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self, timeout: float = 60.0) -> int | None:
        import signal

        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._sock.close()
        import shutil

        shutil.rmtree(self._sockdir, ignore_errors=True)
        return self.proc.returncode

    def __enter__(self) -> DaemonProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
