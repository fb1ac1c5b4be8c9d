"""Telegram delivery through python-telegram-bot's Bot (HTML parse mode, link previews off).

Failure policy: 429 waits the server's retry_after and tries again (never drops); network trouble is
transient; a blocked bot or an unknown chat is permanent; markup Telegram cannot parse is resent as plain
text rather than lost.
"""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta
from typing import ClassVar

from pydantic import BaseModel
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from monitor.channels.ratelimit import LIMITER, RateLimiter
from monitor.config import TelegramConfig
from monitor.errors import ConfigError, DeliveryError
from monitor.htmlsplit import strip_tags
from monitor.models import Digest, Receipt
from monitor.render import render_telegram

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# How long one send may wait out flood control in place. Beyond it the row goes back to the outbox with the
# server's retry_after (still never dropped): the outbox lease (60 s) must not run out under a waiting send.
MAX_FLOOD_WAIT_S = 30.0
MAX_PROGRESS = 100


class BotClient:
    """A PTB Bot plus the HTTP clients it was built with, so that they can be closed: Bot.shutdown() does
    nothing for a bot that was never initialize()d, and we skip initialize() on purpose (it calls getMe, a
    round trip that sending does not need)."""

    def __init__(self, bot: Bot, requests: tuple[HTTPXRequest, ...]) -> None:
        self.bot = bot
        self._requests = requests

    async def aclose(self) -> None:
        for request in self._requests:
            try:
                await request.shutdown()
            except Exception:  # closing must never fail the daemon's shutdown
                log.debug("telegram: error while closing the HTTP client", exc_info=True)


def make_bot(config: TelegramConfig, *, read_timeout_s: float = 20.0) -> BotClient:
    if not config.token:
        raise ConfigError(["telegram.token: not set (use token = \"${TELEGRAM_TOKEN}\" or token_file)"])
    request = HTTPXRequest(connect_timeout=10.0, read_timeout=read_timeout_s, write_timeout=20.0)
    updates = HTTPXRequest(connect_timeout=10.0, read_timeout=read_timeout_s)
    # PTB appends the token to base_url, so ".../bot" + token gives the documented ".../bot<token>/<method>".
    bot = Bot(config.token, base_url=f"{config.api_url.rstrip('/')}/bot", request=request,
              get_updates_request=updates)
    return BotClient(bot, (request, updates))


def _retry_after_s(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int will become a timedelta: we accept both
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def send_text(bot: Bot, chat_id: int, text: str, *, limiter: RateLimiter = LIMITER,
                    html: bool = True, max_flood_wait_s: float = MAX_FLOOD_WAIT_S) -> int:
    """Send one message, paced and retried on flood control; returns the Telegram message id.

    Raises DeliveryError with `transient` set from the kind of failure.
    """
    waited_s = 0.0
    while True:
        await limiter.wait(chat_id)
        try:
            message = await bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML if html else None, link_preview_options=NO_PREVIEW)
            return message.message_id
        except RetryAfter as exc:
            wait_s = _retry_after_s(exc)
            limiter.penalize(chat_id, wait_s)
            waited_s += wait_s
            if waited_s > max_flood_wait_s:
                raise DeliveryError(f"telegram: flood control for chat {chat_id}, retry after {wait_s:.0f} s",
                                    transient=True, retry_after_s=wait_s) from exc
            log.warning("telegram: flood control for chat %s, waiting %.0f s", chat_id, wait_s)
        except BadRequest as exc:
            reason = exc.message
            if html and "can't parse entities" in reason.lower():
                log.warning("telegram: chat %s rejected our markup (%s); sending plain text", chat_id, reason)
                return await send_text(bot, chat_id, strip_tags(text), limiter=limiter, html=False,
                                       max_flood_wait_s=max_flood_wait_s - waited_s)
            raise DeliveryError(f"telegram: chat {chat_id}: {reason}", transient=False) from exc
        except Forbidden as exc:
            raise DeliveryError(f"telegram: chat {chat_id}: {exc.message}", transient=False) from exc
        except ChatMigrated as exc:
            raise DeliveryError(f"telegram: chat {chat_id} became supergroup {exc.new_chat_id}; "
                                "update telegram_chat in the config", transient=False) from exc
        except InvalidToken as exc:
            raise DeliveryError(f"telegram: the bot token was rejected: {exc.message}",
                                transient=False) from exc
        except (NetworkError, TelegramError) as exc:  # TimedOut is a NetworkError: maybe sent, maybe not
            raise DeliveryError(f"telegram: chat {chat_id}: {exc.message}", transient=True) from exc


class TelegramChannel:
    kind: ClassVar[str] = "telegram"
    Config: ClassVar[type[BaseModel]] = TelegramConfig

    def __init__(self, telegram: TelegramConfig, chat_id: int, *, limiter: RateLimiter = LIMITER) -> None:
        self.chat_id = chat_id
        self._client = make_bot(telegram)
        self._bot = self._client.bot
        self._limiter = limiter
        # digest key -> ids of the parts already sent: a retry after a failure in the middle of a
        # multi-message digest resumes where it stopped instead of repeating the first parts.
        self._progress: dict[str, list[str]] = {}

    async def send(self, digest: Digest) -> Receipt:
        parts = render_telegram(digest)
        if len(self._progress) > MAX_PROGRESS:  # keys of digests the outbox regrouped and never retried
            self._progress.pop(next(iter(self._progress)))
        sent = self._progress.setdefault(digest.key, []) if digest.key else []
        try:
            for text in parts[len(sent):]:
                sent.append(str(await send_text(self._bot, self.chat_id, text, limiter=self._limiter)))
        except DeliveryError as exc:
            if not exc.transient:  # the outbox will not retry this digest: forget its progress
                self._progress.pop(digest.key, None)
            raise
        self._progress.pop(digest.key, None)
        return Receipt(channel=self.kind, message_ids=tuple(sent))

    async def aclose(self) -> None:
        await self._client.aclose()
