"""The console channel: prints the digest as plain text (for `monitor once`, demos and tests)."""

from __future__ import annotations

import sys
from typing import ClassVar, TextIO

from pydantic import BaseModel

from monitor.models import Digest, Receipt
from monitor.render import render_text


class ConsoleChannel:
    kind: ClassVar[str] = "console"
    Config: ClassVar[type[BaseModel]] = BaseModel

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, digest: Digest) -> Receipt:
        stream = self._stream or sys.stdout
        stream.write(render_text(digest))
        stream.flush()
        return Receipt(channel=self.kind)
