"""The channel seam: one class per kind. A channel only sends; the outbox decides what and when."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

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

    return {cls.kind: cls for cls in (ConsoleChannel,)}


def build_channel(recipient: RecipientConfig, config: Config) -> Channel:
    """The channel a recipient's alerts go through (console unless telegram/email channels are present)."""
    from monitor.channels.console import ConsoleChannel

    return ConsoleChannel()
