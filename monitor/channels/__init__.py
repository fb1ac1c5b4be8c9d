"""The channel seam: one class per kind. A channel only sends; the outbox decides what and when."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from monitor.models import Digest, Receipt


class Channel(Protocol):
    kind: ClassVar[str]
    Config: ClassVar[type[BaseModel]]

    async def send(self, digest: Digest) -> Receipt:
        """Deliver one digest. Raises DeliveryError(transient=...) on failure."""
        ...


def registry() -> dict[str, type[Any]]:
    from monitor.channels.console import ConsoleChannel

    return {cls.kind: cls for cls in (ConsoleChannel,)}
