"""A real HTTP server on 127.0.0.1 serving recorded pages, with programmable faults, for source tests."""

from __future__ import annotations

import gzip
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


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


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    at: float = 0.0  # time.monotonic() when the request arrived


class PageServer:
    """Start with `with PageServer() as server:`; set `server.routes[path] = Route(...)` (path with its query)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.scheme = "https" if tls is not None else "http"
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
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
                if route is None:
                    self._answer(404, b"not found", {}, None)
                    return
                if route.delay_s:
                    time.sleep(route.delay_s)
                if route.reset:
                    # SO_LINGER 0: close() sends a TCP RST, as a crashing server or a middlebox does.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self._answer(304, b"", {"ETag": route.etag}, None)
                    return
                headers = dict(route.headers)
                if route.etag:
                    headers["ETag"] = route.etag
                payload = route.body
                if route.gzip:
                    payload = gzip.compress(payload, compresslevel=9)
                    headers["Content-Encoding"] = "gzip"
                self._answer(route.status, payload, headers, route.truncate_to)

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

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        # A short poll interval: shutdown() waits for it, once per test.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve_dir(self, directory: Path, prefix: str = "/", **headers: str) -> None:
        """Serve every file of a fixture directory at prefix + its name (Content-Type from headers if given)."""
        for path in sorted(directory.iterdir()):
            if path.is_file():
                self.routes[prefix + path.name] = Route(path.read_bytes(), headers=dict(headers))

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
