"""Frozen values passed between pipeline stages. No behaviour beyond small derived properties."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Entry:
    """One item as a source adapter found it: the article page already reduced to paragraphs."""

    url: str
    title: str
    paragraphs: tuple[str, ...]
    published_at: datetime | None = None  # aware, UTC; None when the source gives no date
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """An entry attributed to its source and normalized: what dedup, the store and the matcher see."""

    source: str
    url: str
    title: str
    paragraphs: tuple[str, ...]
    published_at: datetime | None
    content_hash: str

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass(frozen=True, slots=True)
class Match:
    """A rule fired on one paragraph. paragraph is the 0-based index into Article.paragraphs, None for
    the title. spans are (start, end) character offsets into the snippet (that paragraph's text)."""

    rule: str
    paragraph: int | None
    snippet: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Alert:
    """One story for one recipient, with every rule that fired on it."""

    outbox_ids: tuple[int, ...]
    story_id: int
    item_id: int
    title: str
    url: str
    source: str
    published_at: datetime | None
    rules: tuple[str, ...]
    snippet: str
    spans: tuple[tuple[int, int], ...]
    also: tuple[str, ...] = ()  # other sources that carried the same story ("также: ...")


@dataclass(frozen=True, slots=True)
class Digest:
    """What one send carries to one recipient: one alert (immediate) or many (scheduled)."""

    recipient: str
    alerts: tuple[Alert, ...]
    timezone: str = "Asia/Almaty"
    key: str = ""  # stable id of this digest (same rows -> same key), e.g. for the email Message-ID


@dataclass(frozen=True, slots=True)
class Receipt:
    channel: str
    message_ids: tuple[str, ...] = field(default_factory=tuple)
