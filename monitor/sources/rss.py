"""RSS and Atom feeds (feedparser). Full text from the feed's content, or from the article page when asked."""

from __future__ import annotations

import asyncio
import calendar
from datetime import UTC, datetime
from typing import Any, ClassVar

import feedparser
from pydantic import BaseModel, ConfigDict

from monitor.config import SourceConfig
from monitor.errors import ParseError
from monitor.extract import clean_space, clean_title, paragraphs_from_html
from monitor.fetch import Fetcher
from monitor.models import Entry
from monitor.sources import SourceState
from monitor.sources.pages import fetch_article_pages


class RssOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    headers: dict[str, str] = {}
    max_items: int = 50
    fetch_articles: bool = False  # fetch each item's page for the full text
    article_body: str | None = None  # CSS selector of the body on the article page
    article_title: str | None = None
    article_date: str | None = None


def _entry_date(raw: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _entry_html(raw: Any) -> str:
    contents = raw.get("content") or []
    if contents:
        return "\n".join(str(c.get("value", "")) for c in contents)
    return str(raw.get("summary", "") or raw.get("description", ""))


def parse_feed(content: bytes, max_items: int) -> list[Entry]:
    parsed = feedparser.parse(content)
    entries = []
    for raw in parsed.entries[:max_items]:
        link = str(raw.get("link", "")).strip()
        if not link:
            continue
        html = _entry_html(raw)
        entries.append(Entry(
            url=link,
            title=clean_title(str(raw.get("title", ""))) or link,
            paragraphs=paragraphs_from_html(html) if html.strip() else (),
            published_at=_entry_date(raw),
            external_id=str(raw.get("id", "")) or None,
        ))
    if not entries and (parsed.bozo or not parsed.version):
        # A broken or non-feed body must not pass as "no news": that would hide a dead source.
        reason = parsed.get("bozo_exception") or "no RSS/Atom structure found"
        raise ParseError(f"not a valid RSS/Atom feed: {reason}")
    return entries


class RssSource:
    kind: ClassVar[str] = "rss"
    Config: ClassVar[type[BaseModel]] = RssOptions

    def __init__(self, options: RssOptions, common: SourceConfig) -> None:
        self.options = options
        self.common = common

    async def poll(self, http: Fetcher, state: SourceState) -> list[Entry]:
        response = await http.get(self.options.url, headers=self.options.headers, etag=state.etag,
                                  last_modified=state.last_modified, verify=not self.common.insecure)
        state.not_modified = response.not_modified
        if response.not_modified:
            return []
        state.etag, state.last_modified = response.etag, response.last_modified
        # feedparser is pure Python and can take a while on a big feed: keep it off the event loop.
        entries = await asyncio.to_thread(parse_feed, response.content, self.options.max_items)
        if not self.options.fetch_articles:
            return entries
        return await fetch_article_pages(
            http, entries, state, body=self.options.article_body, title=self.options.article_title,
            date=self.options.article_date, encoding=self.common.encoding, verify=not self.common.insecure,
        )


__all__ = ["RssSource", "clean_space", "parse_feed"]
