"""Prints alerts to standard output: the channel of `monitor demo`, `monitor once` and a first setup."""

from __future__ import annotations

import sys
from typing import ClassVar, TextIO
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from monitor.models import Alert, Digest, Receipt


class ConsoleOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _highlight(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [text[last:start], "**", text[start:end], "**"]
        last = end
    out.append(text[last:])
    return "".join(out)


def format_alert(alert: Alert, tz: str) -> str:
    when = alert.published_at.astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y %H:%M") if alert.published_at else "—"
    lines = [
        f"▶ {alert.title}",
        f"  {alert.source} · {when} · правила: {', '.join(alert.rules)}",
        f"  {alert.url}",
        f"  «{_highlight(alert.snippet, alert.spans)}»",
    ]
    if alert.also:
        lines.append(f"  также: {', '.join(alert.also)}")
    return "\n".join(lines)


class ConsoleChannel:
    kind: ClassVar[str] = "console"
    Config: ClassVar[type[BaseModel]] = ConsoleOptions

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send(self, digest: Digest) -> Receipt:
        stream = self.stream or sys.stdout
        header = f"=== {digest.recipient}: {len(digest.alerts)} новых ==="
        stream.write("\n".join([header, *(format_alert(a, digest.timezone) for a in digest.alerts)]) + "\n\n")
        stream.flush()
        return Receipt(channel=self.kind)
