"""A real Bot API look-alike on 127.0.0.1 for tests: getMe, sendMessage, getUpdates over HTTP/1.1.

No mocks: python-telegram-bot talks to it through httpx exactly as it talks to api.telegram.org. Tests script
failures with `fail_next()` (429 with retry_after, 400 can't parse entities, 403 blocked, 400 chat not found,
or a dropped connection), feed the bot with `push_update()`, and read what arrived in `messages`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FAILURES: dict[str, tuple[int, str]] = {
    "parse": (400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"),
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "not_found": (400, "Bad Request: chat not found"),
    "server": (500, "Internal Server Error"),
    "unauthorized": (401, "Unauthorized"),
}


@dataclass
class SentMessage:
    chat_id: int
    text: str
    parse_mode: str | None
    link_preview_options: dict[str, Any] | None
    at: float  # monotonic time of arrival, for rate checks


@dataclass
class TelegramApiServer:
    token: str = "123:TEST"
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[SentMessage] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _failures: list[list[Any]] = field(default_factory=list)  # [method, kind, retry_after, calls to let pass]
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> TelegramApiServer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    def fail_next(self, method: str, kind: str, *, times: int = 1, retry_after: int = 1,
                  after: int = 0) -> None:
        """Let `after` calls of `method` succeed, then answer the next `times` with a failure: "429",
        "drop" (close the connection without an answer), or a FAILURES key."""
        self._failures.append([method, kind, retry_after, after])
        self._failures.extend([method, kind, retry_after, 0] for _ in range(times - 1))

    def push_update(self, chat_id: int, text: str, *, chat_type: str = "private") -> None:
        update_id = 1000 + len(self._updates)
        self._updates.append({"update_id": update_id, "message": {
            "message_id": update_id, "date": int(time.time()), "text": text,
            "chat": {"id": chat_id, "type": chat_type, "first_name": "Test"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            if text.startswith("/") else []}})
        self._new_update.set()

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [m.text for m in self.messages if chat_id is None or m.chat_id == chat_id]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                path, params = request
                if not await self._respond(writer, path, params):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a cancelled handler ends quietly: asyncio logs an error for a server task that re-raises
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _respond(self, writer: asyncio.StreamWriter, path: str, params: dict[str, Any]) -> bool:
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return _write(writer, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        method = path[len(prefix):]
        self.requests.append((method, params))
        for i, (m, kind, retry_after, after) in enumerate(self._failures):
            if m == method:
                if after:
                    self._failures[i][3] -= 1
                    break
                del self._failures[i]
                if kind == "drop":
                    return False
                if kind == "429":
                    description = f"Too Many Requests: retry after {retry_after}"
                    return _write(writer, 429, {"ok": False, "error_code": 429, "description": description,
                                                "parameters": {"retry_after": retry_after}})
                if kind == "migrated":
                    return _write(writer, 400, {"ok": False, "error_code": 400,
                                                "description": "Bad Request: group chat was upgraded to a supergroup",
                                                "parameters": {"migrate_to_chat_id": -1001234}})
                code, description = FAILURES[kind]
                return _write(writer, code, {"ok": False, "error_code": code, "description": description})
        result = await self._call(method, params)
        if result is None:
            return _write(writer, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        return _write(writer, 200, {"ok": True, "result": result})

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": 123, "is_bot": True, "first_name": "Monitor", "username": "monitor_test_bot"}
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            self.messages.append(SentMessage(chat_id, params["text"], params.get("parse_mode"),
                                             params.get("link_preview_options"), time.monotonic()))
            return {"message_id": next(self._ids), "date": int(time.time()), "text": params["text"],
                    "chat": {"id": chat_id, "type": "private"}}
        if method == "getUpdates":
            return await self._get_updates(params)
        return None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            pending = [u for u in self._updates if u["update_id"] >= offset]
            left = deadline - time.monotonic()
            if pending or left <= 0:
                return pending
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), left)


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, Any]] | None:
    """One HTTP/1.1 request: path and parameters (query, form or JSON body; JSON-looking values decoded)."""
    head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
    if not head:
        return None
    lines = head.decode("latin-1").split("\r\n")
    _method, target, _version = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    url = urlsplit(target)
    raw: dict[str, Any] = dict(parse_qsl(url.query))
    if headers.get("content-type", "").startswith("application/json") and body:
        raw.update(json.loads(body))
    elif body:
        raw.update(parse_qsl(body.decode("utf-8")))
    params = {}
    for key, value in raw.items():
        if isinstance(value, str) and value[:1] in "{[":  # PTB JSON-encodes non-string parameters
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    return url.path, params


def _write(writer: asyncio.StreamWriter, status: int, payload: dict[str, Any]) -> bool:
    body = json.dumps(payload, ensure_ascii=False).encode()
    writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                 f"Connection: keep-alive\r\n\r\n".encode() + body)
    return True
