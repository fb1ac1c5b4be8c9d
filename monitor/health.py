"""/healthz and /metrics on a local port, served by a small asyncio HTTP/1.1 handler in the daemon's loop.

Nothing here blocks: the database probe and the metric gauges are awaited with a timeout. /healthz answers
503 when the scheduler is stuck (its heartbeat job has not run for 3 intervals) or the database is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from monitor.metrics import Metrics
from monitor.runtime import Runtime

log = logging.getLogger(__name__)
PROBE_TIMEOUT_S = 3.0
REQUEST_TIMEOUT_S = 5.0
STUCK_AFTER_BEATS = 3


class Probe(Protocol):
    """What the server looks at: the daemon implements it."""

    rt: Runtime | None
    metrics: Metrics
    heartbeat_s: float

    def heartbeat_age(self) -> float: ...


def parse_listen(value: str) -> tuple[str, int]:
    """`127.0.0.1:9310`, `[::1]:9310` or `localhost:0` (0: any free port) -> (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f'"{value}" is not host:port (e.g. "127.0.0.1:9310")')
    return host.strip("[]"), int(port)


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"


REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable",
           400: "Bad Request"}


class HealthServer:
    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.server: asyncio.Server | None = None
        self.address: tuple[str, int] | None = None

    async def start(self, listen: str) -> tuple[str, int]:
        host, port = parse_listen(listen)
        self.server = await asyncio.start_server(self._handle, host, port, limit=16384)
        sockname = self.server.sockets[0].getsockname()
        self.address = (str(sockname[0]), int(sockname[1]))
        log.info("health listening http=%s:%d paths=/healthz,/metrics", *self.address)
        return self.address

    async def aclose(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2.0)

    async def healthz(self) -> Answer:
        age = self.probe.heartbeat_age()
        limit = STUCK_AFTER_BEATS * self.probe.heartbeat_s
        report: dict[str, object] = {"status": "ok", "scheduler": "ok", "heartbeat_age_s": round(age, 1),
                                     "database": "ok"}
        if age > limit:
            report["scheduler"] = f"stuck: no heartbeat for {age:.0f}s (limit {limit:.0f}s)"
        rt = self.probe.rt
        if rt is None:
            report["database"] = "starting"
        else:
            report["node"] = rt.leases.node_id
            try:
                async with rt.sessions() as session:
                    await asyncio.wait_for(session.execute(text("SELECT 1")), PROBE_TIMEOUT_S)
            except Exception as exc:  # only the type: a driver message may carry the host or user
                report["database"] = f"unreachable: {type(exc).__name__}"
        healthy = report["scheduler"] == "ok" and report["database"] == "ok"
        report["status"] = "ok" if healthy else "fail"
        return Answer(200 if healthy else 503, json.dumps(report, ensure_ascii=False).encode() + b"\n")

    async def metrics(self) -> Answer:
        rt = self.probe.rt
        if rt is not None:
            try:
                await asyncio.wait_for(self.probe.metrics.refresh(rt, self.probe.heartbeat_age()),
                                       PROBE_TIMEOUT_S)
            except Exception as exc:
                self.probe.metrics.scrape_errors.inc()
                log.warning("metrics database read failed error=%s", type(exc).__name__)
        return Answer(200, self.probe.metrics.render(), CONTENT_TYPE_LATEST)

    async def route(self, method: str, path: str) -> Answer:
        path = path.split("?", 1)[0]
        if path not in ("/healthz", "/metrics"):
            return Answer(404, b'{"error": "not found"}\n')
        if method not in ("GET", "HEAD"):
            return Answer(405, b'{"error": "method not allowed"}\n')
        return await (self.healthz() if path == "/healthz" else self.metrics())

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                request = await asyncio.wait_for(self._read_request(reader), REQUEST_TIMEOUT_S)
            except (TimeoutError, ValueError, asyncio.LimitOverrunError, asyncio.IncompleteReadError):
                request = None
            if request is None:
                answer, method = Answer(400, b'{"error": "bad request"}\n'), "GET"
            else:
                method, path = request
                answer = await self.route(method, path)
            head = (f"HTTP/1.1 {answer.status} {REASONS.get(answer.status, 'Error')}\r\n"
                    f"Content-Type: {answer.content_type}\r\nContent-Length: {len(answer.body)}\r\n"
                    "Cache-Control: no-store\r\nConnection: close\r\n\r\n")
            writer.write(head.encode() + (b"" if method == "HEAD" else answer.body))
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str] | None:
        line = (await reader.readuntil(b"\r\n")).decode("latin-1").strip()
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return None
        for _ in range(100):  # headers: read and ignore; the answer never depends on them
            if await reader.readuntil(b"\r\n") == b"\r\n":
                return parts[0], parts[1]
        return None
