"""`monitor run` as a child process that the script can SIGKILL and start again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path


class DaemonProcess:
    def __init__(self, config: Path, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.stdout = workdir / "daemon.out"
        self.stderr = workdir / "daemon.err"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._logged_before = 0  # `started:` lines in the log before the latest start

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None
        self._logged_before = self.started_count()
        with self.stdout.open("ab") as out, self.stderr.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(self.config), "run"],
                stdout=out, stderr=err, env=self.env, cwd=self.config.parent,
            )
        self.starts += 1

    def started_count(self) -> int:
        text = self.stderr.read_text(encoding="utf-8", errors="replace") if self.stderr.exists() else ""
        return text.count("monitor.daemon: started")

    async def wait_ready(self, timeout_s: float = 60.0) -> bool:
        """Until this start has logged `started:` (sources scheduled), or the process died."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if self.ready():
                return True
            if self.proc is not None and self.proc.poll() is not None:
                return False
            await asyncio.sleep(0.1)
        return False

    def ready(self) -> bool:
        """The latest start got as far as scheduling its jobs (an earlier start may have died before)."""
        return self.started_count() > self._logged_before

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def kill(self) -> None:
        """SIGKILL: no handler runs, no drain, no cleanup — a power cut as far as the process knows."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(self.proc.wait)

    async def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM and wait for the drain; the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return await asyncio.to_thread(self.proc.wait, timeout_s)
            except subprocess.TimeoutExpired:
                await self.kill()
                return None
        return self.proc.returncode
