"""A TCP proxy on loopback in front of the Telegram Bot API server and the SMTP server, failing on command.

Faults that a real network or server produces, chosen so that a request is either fully processed upstream
and answered (slow), or never reaches upstream (all others). So every duplicate the run sees must come from
a SIGKILL; the other way to duplicate (an answer lost after the server acted) is documented in delivery.md.
  down       stop listening (connection refused)
  slow       forward the request, hold the answer `delay_s`
  reset      RST on accept
  5xx / 429  a canned refusal (HTTP 502 / 429 with retry_after; SMTP 421 greetings)
  truncated  half of a canned answer, then close
  garbage    random bytes, then close
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct

FAULTS = ("down", "slow", "reset", "5xx", "429", "truncated", "garbage")


def _http(status: int, payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode()
    return (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode() + body


CANNED = {
    ("http", "5xx"): _http(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
    ("http", "429"): _http(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                 "parameters": {"retry_after": 1}}),
    ("smtp", "5xx"): b"421 4.3.2 Service not available, closing transmission channel\r\n",
    ("smtp", "429"): b"421 4.7.0 Too many connections, try again later\r\n",
}


class FaultProxy:
    def __init__(self, upstream_port: int, protocol: str) -> None:
        self.upstream_port = upstream_port
        self.protocol = protocol  # "http" or "smtp": which canned refusals to speak
        self.fault: str | None = None
        self.delay_s = 2.0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def fail(self, kind: str | None, *, delay_s: float = 2.0) -> None:
        if kind is not None and kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}")
        self.fault, self.delay_s = kind, delay_s
        if kind == "down":
            await self.stop()
        elif self._server is None:
            await self.start()

    async def heal(self) -> None:
        await self.fail(None)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer, self.fault)
        except (ConnectionError, asyncio.CancelledError, OSError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, fault: str | None) -> None:
        if fault == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        if fault in ("5xx", "429", "truncated", "garbage"):
            if self.protocol == "http":
                await reader.read(65536)  # the request: read, never forwarded
            answer = CANNED.get((self.protocol, fault if fault != "truncated" else "5xx"), b"")
            if fault == "truncated":
                answer = answer[: len(answer) // 2]
            elif fault == "garbage":
                answer = os.urandom(200).replace(b"HTTP", b"PTTH").replace(b"\r\n", b"..") + b"\r\n"
            writer.write(answer)
            await writer.drain()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        slow = self.delay_s if fault == "slow" else 0.0

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, delay: float) -> None:
            while data := await src.read(65536):
                if delay:
                    await asyncio.sleep(delay)  # upstream already acted on the request: only the answer waits
                dst.write(data)
                await dst.drain()
            with contextlib.suppress(Exception):
                dst.write_eof()

        try:
            await asyncio.gather(pipe(reader, up_writer, 0.0), pipe(up_reader, writer, slow))
        finally:
            up_writer.close()
