"""A real `monitor run` in a subprocess, its stdout and stderr collected line by line for the test to wait on."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class DaemonProc:
    def __init__(self, config: Path, *, env: dict[str, str] | None = None, log_level: str = "INFO") -> None:
        full_env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC",
                                                                    "INVOCATION_ID", "JOURNAL_STREAM")}
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--log-level", log_level, "--config", str(config), "run"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=REPO,
        )
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._cond = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(name,), daemon=True)
                         for name in ("stdout", "stderr")]
        for t in self._readers:
            t.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self, name: str) -> None:
        stream = self.proc.stdout if name == "stdout" else self.proc.stderr
        assert stream is not None
        for raw in stream:
            with self._cond:
                self.lines[name].append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()

    def text(self, name: str = "stderr") -> str:
        with self._cond:
            return "\n".join(self.lines[name])

    def wait_for(self, pattern: str, name: str = "stderr", timeout: float = 60.0, *, after: int = 0) -> re.Match[str]:
        """The first line (from index `after`) matching the regex; fails with the output if none comes."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[name][after:]:
                    if m := rx.search(line):
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._alive_readers()):
                    raise AssertionError(f"no line matching {pattern!r} in {name}:\n" + self.text("stderr")[-6000:])
                self._cond.wait(min(left, 0.2))

    def count(self, name: str = "stderr") -> int:
        with self._cond:
            return len(self.lines[name])

    def _alive_readers(self) -> bool:
        return any(t.is_alive() for t in self._readers)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        for t in self._readers:
            t.join(5)
        return code

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for t in self._readers:
            t.join(5)


def write_config(path: Path, database: str, body: str, *, daemon_extra: str = "") -> Path:
    path.write_text(f'[daemon]\ndatabase = "{database}"\n{daemon_extra}\n{body}', encoding="utf-8")
    return path
