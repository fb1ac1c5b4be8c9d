"""A real HTTP server on 127.0.0.1 serving recorded pages, with programmable faults, for source tests.

Faults, per route (`Route(fault=...)`) or for every route at once (`server.fail(kind)` ... `server.heal()`):
  slow       answer after `delay_s` (server-wide: `fail("slow", delay_s=...)`)
  5xx        503 Service Unavailable
  429        429 Too Many Requests with Retry-After: 1
  reset      close the connection without answering (RST)
  truncated  promise the whole body in Content-Length, send half of it, close
  garbage    bytes that are not HTTP at all
  down       (server-wide only) stop listening: connections are refused until heal()
Bodies that must never be held in memory are streams: `Route(stream=...)` yields chunks (chunked encoding, or
the declared `length`), `chunk_delay_s` paces them (a slow-loris server).
"""

from __future__ import annotations

import gzip
import os
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FAULTS = ("slow", "5xx", "429", "reset", "truncated", "garbage", "down")


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    etag: str | None = None  # answer 304 to a matching If-None-Match
    reset: bool = False  # reset the connection (RST) without answering
    gzip: bool = False  # send the body gzip-compressed (Content-Encoding: gzip)
    truncate_to: int | None = None  # declare the whole length, send only this many bytes, then close
    sequence: list[Route] = field(default_factory=list)  # answered first, one per request, then this route
    fault: str | None = None  # one of FAULTS (except "down")
    stream: Callable[[], Iterator[bytes]] | None = None  # a body produced chunk by chunk, never held whole
    length: int | None = None  # declared Content-Length of a stream (chunked encoding when None)
    chunk_delay_s: float = 0.0  # pause after each streamed chunk


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # clients that hang up are what the fault tests are about: no tracebacks on stderr


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    at: float = 0.0  # time.monotonic() when the request arrived


class PageServer:
    """Start with `with PageServer() as server:`; set `server.routes[path] = Route(...)` (path with its query)."""

    def __init__(self, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.scheme = "https" if tls is not None else "http"
        self.tls = tls
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.fault: str | None = None  # server-wide fault, see fail()
        self.fault_delay_s = 5.0
        self.streams_abandoned = 0  # streamed answers the client stopped reading before their end
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                self._handle(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._handle(self.rfile.read(length) if length else b"")

            def _handle(self, body: bytes) -> None:
                outer.hits.append(Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                      body, time.monotonic()))
                with outer._lock:
                    route = outer.routes.get(self.path)
                    if route is not None and route.sequence:
                        route = route.sequence.pop(0)
                    fault, fault_delay = outer.fault, outer.fault_delay_s
                if route is None:
                    self._answer(404, b"not found", {}, None)
                    return
                if route.fault is not None:
                    fault, fault_delay = route.fault, route.delay_s
                if fault is not None and self._misbehave(fault, fault_delay, route):
                    return
                if route.delay_s:
                    time.sleep(route.delay_s)
                if route.reset:
                    self._reset()
                    return
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self._answer(304, b"", {"ETag": route.etag}, None)
                    return
                headers = dict(route.headers)
                if route.etag:
                    headers["ETag"] = route.etag
                if route.stream is not None:
                    self._stream(route, headers)
                    return
                payload = route.body
                if route.gzip:
                    payload = gzip.compress(payload, compresslevel=9)
                    headers["Content-Encoding"] = "gzip"
                self._answer(route.status, payload, headers, route.truncate_to)

            def _reset(self) -> None:
                # SO_LINGER 0: close() sends a TCP RST, as a crashing server or a middlebox does.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

            def _misbehave(self, fault: str, delay_s: float, route: Route) -> bool:
                """Fail as told; False means "then answer normally" (slow)."""
                if fault == "slow":
                    time.sleep(delay_s)
                    return False
                if fault == "5xx":
                    self._answer(503, b"<h1>503 Service Unavailable</h1>", {}, None)
                elif fault == "429":
                    self._answer(429, b"<h1>429 Too Many Requests</h1>", {"Retry-After": "1"}, None)
                elif fault == "reset":
                    self._reset()
                elif fault == "truncated":
                    body = route.body or b"<html><body>" + b"x" * 1000
                    self._answer(route.status, body, dict(route.headers), len(body) // 2)
                elif fault == "garbage":
                    self.wfile.write(os.urandom(256).replace(b"HTTP", b"PTTH") + b"\r\n\r\n")
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    raise ValueError(f"unknown fault {fault!r}")
                return True

            def _stream(self, route: Route, headers: dict[str, str]) -> None:
                assert route.stream is not None
                self.send_response(route.status)
                headers.setdefault("Content-Type", "text/html; charset=utf-8")
                for key, value in headers.items():
                    self.send_header(key, value)
                chunked = route.length is None
                self.send_header(*(("Transfer-Encoding", "chunked") if chunked else
                                   ("Content-Length", str(route.length))))
                self.end_headers()
                self.close_connection = True
                try:
                    for chunk in route.stream():
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                        self.wfile.flush()
                        if route.chunk_delay_s:
                            time.sleep(route.chunk_delay_s)
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")
                except OSError:  # the client hung up mid-stream: what a bounded fetcher must do
                    with outer._lock:
                        outer.streams_abandoned += 1

            def _answer(self, status: int, body: bytes, headers: dict[str, str], truncate_to: int | None) -> None:
                self.send_response(status)
                headers.setdefault("Content-Type", "text/html; charset=utf-8")
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body if truncate_to is None else body[:truncate_to])
                if truncate_to is not None:
                    self.wfile.flush()
                    self.close_connection = True

        self._handler = Handler
        self._server = self._listen(port)
        self.port: int = self._server.server_address[1]
        self._thread = self._serve_thread()

    def _listen(self, port: int) -> ThreadingHTTPServer:
        server = _QuietServer(("127.0.0.1", port), self._handler)
        server.daemon_threads = True
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        return server

    def _serve_thread(self) -> threading.Thread:
        # A short poll interval: shutdown() waits for it, once per test.
        return threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve_dir(self, directory: Path, prefix: str = "/", **headers: str) -> None:
        """Serve every file of a fixture directory at prefix + its name (Content-Type from headers if given)."""
        for path in sorted(directory.iterdir()):
            if path.is_file():
                self.routes[prefix + path.name] = Route(path.read_bytes(), headers=dict(headers))

    def set_route(self, path: str, route: Route) -> None:
        """Replace a route while the server runs (the chaos harness publishes this way)."""
        with self._lock:
            self.routes[path] = route

    def fail(self, kind: str | None, *, delay_s: float = 5.0) -> None:
        """Every route misbehaves as `kind` (one of FAULTS) until heal()."""
        if kind is not None and kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULTS)})")
        if kind == "down":
            self.down()
            return
        with self._lock:
            self.fault, self.fault_delay_s = kind, delay_s

    def heal(self) -> None:
        with self._lock:
            self.fault = None
        self.up()

    def down(self) -> None:
        """Stop listening: connections are refused until up()."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()

    def up(self) -> None:
        if self._thread.is_alive():
            return
        for _ in range(100):  # the port can stay busy for a moment after close
            try:
                self._server = self._listen(self.port)
                break
            except OSError:
                time.sleep(0.05)
        self._thread = self._serve_thread()
        self._thread.start()

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()
