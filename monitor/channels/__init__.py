"""The channel seam: one class per kind. A channel only sends; the outbox decides what and when."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

from monitor.errors import ConfigError
from monitor.models import Digest, Receipt

if TYPE_CHECKING:
    from monitor.config import Config, RecipientConfig


class Channel(Protocol):
    kind: ClassVar[str]
    Config: ClassVar[type[BaseModel]]

    async def send(self, digest: Digest) -> Receipt:
        """Deliver one digest. Raises DeliveryError(transient=...) on failure."""
        ...


def registry() -> dict[str, type[Any]]:
    from monitor.channels.console import ConsoleChannel
    from monitor.channels.email import EmailChannel
    from monitor.channels.telegram import TelegramChannel

    return {cls.kind: cls for cls in (ConsoleChannel, TelegramChannel, EmailChannel)}


def build_channel(recipient: RecipientConfig, config: Config) -> Channel:
    """The channel a recipient's keys ask for: telegram_chat, email or console (in that order of
    precedence)."""
    from monitor.channels.console import ConsoleChannel
    from monitor.channels.email import EmailChannel
    from monitor.channels.telegram import TelegramChannel

    where = f"recipients.{recipient.name}"
    if recipient.telegram_chat is not None:
        if config.telegram is None:
            raise ConfigError([f"{where}.telegram_chat: needs a [telegram] section with the bot token"])
        return TelegramChannel(config.telegram, recipient.telegram_chat)
    if recipient.email is not None:
        if config.smtp is None:
            raise ConfigError([f"{where}.email: needs an [smtp] section"])
        return EmailChannel(config.smtp, recipient.email)
    if recipient.console:
        return ConsoleChannel()
    raise ConfigError([f"{where}: no channel (set telegram_chat, email or console = true)"])


async def close_channels(channels: Iterable[Channel]) -> None:
    """Release the HTTP clients of channels that hold one (Telegram); others have nothing to close."""
    for channel in channels:
        closer = getattr(channel, "aclose", None)
        if closer is not None:
            await closer()
