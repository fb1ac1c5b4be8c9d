"""Telegram commands for the people who receive alerts: /start /rules /recent /mute /unmute /status /help.

Long polling with getUpdates runs as one task in the daemon's event loop (each call awaits the server for up
to `poll_timeout_s`), so it never blocks delivery. Only `allowed_chats` are served; any other chat gets one
polite refusal that tells it its chat id (what an administrator needs to allow it) and then silence, so a
stranger cannot use the bot to probe what is monitored. The data comes from a BotBackend, which the daemon
backs with the store; its methods may be plain or async.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from markupsafe import escape
from telegram import Bot
from telegram.error import Conflict, InvalidToken, TelegramError

from monitor.channels.ratelimit import LIMITER, RateLimiter
from monitor.channels.telegram import make_bot, send_text
from monitor.config import TelegramConfig, parse_duration
from monitor.errors import DeliveryError
from monitor.models import Alert, Digest
from monitor.render import local_time, render_telegram

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_RECENT = 20
MAX_MUTE_S = 30 * 86400

HELP = (
    "Команды:\n"
    "/rules — правила, по которым идёт отбор\n"
    "/recent [N] — последние N совпадений (по умолчанию 5, не больше 20)\n"
    "/mute 2h — приостановить уведомления (30m, 2h, 1d)\n"
    "/unmute — возобновить уведомления\n"
    "/status — состояние источников и очереди\n"
    "/start — идентификатор этого чата"
)
REFUSAL = ("Здравствуйте! Этот бот рассылает уведомления только разрешённым чатам.\n"
           "Идентификатор этого чата: <code>{chat_id}</code>. "
           "Если вам нужен доступ, передайте его администратору.")


class BotBackend(Protocol):
    def rules(self) -> list[str] | Awaitable[list[str]]: ...
    def recent(self, n: int) -> Sequence[Alert] | Awaitable[Sequence[Alert]]: ...
    def mute(self, chat_id: int, seconds: float) -> Awaitable[None] | None: ...
    def unmute(self, chat_id: int) -> Awaitable[None] | None: ...
    def status(self) -> str | Awaitable[str]: ...


async def _resolve(value: T | Awaitable[T]) -> T:
    if inspect.isawaitable(value):
        return await value
    return value


class TelegramBot:
    def __init__(self, telegram: TelegramConfig, backend: BotBackend, *, timezone: str = "Asia/Almaty",
                 poll_timeout_s: int = 25, limiter: RateLimiter = LIMITER) -> None:
        self.allowed = frozenset(telegram.allowed_chats)
        self.backend = backend
        self.timezone = timezone
        self.poll_timeout_s = poll_timeout_s
        self._limiter = limiter
        self._client = make_bot(telegram)
        self._bot: Bot = self._client.bot
        self._offset: int | None = None
        self._username: str | None = None
        self._refused: set[int] = set()  # in memory: after a restart a stranger may get one more refusal

    async def handle(self, chat_id: int, text: str) -> list[str]:
        """The replies (Telegram HTML) to one message; [] when the bot stays silent."""
        if chat_id not in self.allowed:
            if chat_id in self._refused:
                return []
            self._refused.add(chat_id)
            log.info("bot: refused chat %s (not in telegram.allowed_chats)", chat_id)
            return [REFUSAL.format(chat_id=chat_id)]
        command, _, arg = text.strip().partition(" ")
        command, _, addressee = command.partition("@")
        if not command.startswith("/") or (addressee and self._username and addressee != self._username):
            return []  # chatter in a group, or a command for another bot
        try:
            return await self._command(chat_id, command.lower(), arg.strip())
        except Exception:  # a failing backend must not kill polling; the reader gets a short apology
            log.exception("bot: command %s failed", command)
            return ["Не удалось выполнить команду: внутренняя ошибка. Подробности в журнале монитора."]

    async def _command(self, chat_id: int, command: str, arg: str) -> list[str]:
        if command == "/start":
            return [f"Здравствуйте! Идентификатор этого чата: <code>{chat_id}</code>.\n"
                    f"Чат в списке разрешённых: да.\n\n{HELP}"]
        if command == "/rules":
            rules = await _resolve(self.backend.rules())
            if not rules:
                return ["Правил пока нет."]
            return ["<b>Правила:</b>\n" + "\n".join(f"• {escape(r)}" for r in rules)]
        if command == "/recent":
            return await self._recent(arg)
        if command == "/mute":
            return await self._mute(chat_id, arg)
        if command == "/unmute":
            await _resolve(self.backend.unmute(chat_id))
            return ["Уведомления возобновлены."]
        if command == "/status":
            return [f"<pre>{escape(await _resolve(self.backend.status()))}</pre>"]
        return [f"Неизвестная команда.\n\n{HELP}"]

    async def _recent(self, arg: str) -> list[str]:
        n = 5
        if arg:
            if not arg.isdigit() or int(arg) < 1:
                return ["Укажите число, например: /recent 10"]
            n = min(int(arg), MAX_RECENT)
        alerts = tuple(await _resolve(self.backend.recent(n)))[:n]
        if not alerts:
            return ["Совпадений пока нет."]
        return render_telegram(Digest(recipient="bot", alerts=alerts, timezone=self.timezone))

    async def _mute(self, chat_id: int, arg: str) -> list[str]:
        try:
            seconds = parse_duration(arg) if arg else 0.0
        except ValueError:
            seconds = 0.0
        if seconds <= 0:
            return ["Укажите срок, например: /mute 2h (также 30m, 1d)."]
        seconds = min(seconds, MAX_MUTE_S)
        await _resolve(self.backend.mute(chat_id, seconds))
        until = local_time(datetime.now(UTC) + timedelta(seconds=seconds), self.timezone)
        return [f"Уведомления приостановлены до {until}. Отменить: /unmute"]

    async def poll_once(self) -> int:
        """One getUpdates round trip (long poll); answers every message in it; returns how many there were."""
        updates = await self._bot.get_updates(offset=self._offset, timeout=int(self.poll_timeout_s),
                                              allowed_updates=["message"])
        for update in updates:
            self._offset = update.update_id + 1  # confirmed on the next call, so a crash re-reads it
            message = update.message
            if message is None or not message.text:
                continue
            for reply in await self.handle(message.chat.id, message.text):
                try:
                    await send_text(self._bot, message.chat.id, reply, limiter=self._limiter)
                except DeliveryError as exc:
                    log.warning("bot: reply to chat %s failed: %s", message.chat.id, exc)
        return len(updates)

    async def run(self) -> None:
        """Poll until cancelled. Network trouble backs off up to a minute; nothing here ends the daemon."""
        backoff_s = 1.0
        while True:
            try:
                if self._username is None:
                    self._username = (await self._bot.get_me()).username
                await self.poll_once()
                backoff_s = 1.0
                continue
            except Conflict:
                log.error("bot: another process polls this bot token (getUpdates conflict); retrying in 30 s")
                delay_s = 30.0
            except InvalidToken:
                log.error("bot: telegram.token was rejected; commands are off until it is fixed")
                delay_s = 600.0
            except TelegramError as exc:
                log.warning("bot: getUpdates failed (%s); retrying in %.0f s", exc, backoff_s)
                delay_s, backoff_s = backoff_s, min(backoff_s * 2, 60.0)
            await asyncio.sleep(delay_s)

    async def aclose(self) -> None:
        await self._client.aclose()
