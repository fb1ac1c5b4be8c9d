"""RSS and Atom feeds (feedparser). Full text from the feed's content, or from the article page when asked."""

from __future__ import annotations

import asyncio
import calendar
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import feedparser
from pydantic import BaseModel, ConfigDict, Field

from monitor.config import SourceConfig
from monitor.errors import ParseError
from monitor.extract import clean_space, clean_title, paragraphs_from_html
from monitor.fetch import Fetcher, Response
from monitor.models import Entry
from monitor.sources import SourceState
from monitor.sources.pages import ArticleSelectors, apply_dateline, fetch_article_pages, remember_listing

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


class RssOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    headers: dict[str, str] = {}
    max_items: int = Field(default=50, ge=1)
    fetch_articles: bool = False  # fetch each item's page for the full text
    article_body: str | None = None  # CSS selector of the body on the article page
    article_title: str | None = None
    article_date: str | None = None
    article_date_attr: str | None = None
    dateline: str | None = None  # regex with a `date` group, stripped from the first paragraph

    def selectors(self) -> ArticleSelectors:
        return ArticleSelectors(title=self.article_title, body=self.article_body, date=self.article_date,
                                date_attr=self.article_date_attr, dateline=self.dateline)


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


def parse_feed(content: bytes | str, max_items: int, *, content_type: str | None = None,
               dateline: str | None = None) -> list[Entry]:
    # The HTTP Content-Type (its charset) goes to feedparser, which weighs it against the XML declaration.
    headers = {"content-type": content_type} if content_type else None
    parsed = feedparser.parse(content, response_headers=headers)
    entries = []
    for raw in parsed.entries[:max_items]:
        link = str(raw.get("link", "")).strip()
        if not link:
            continue
        html = _entry_html(raw)
        entry = Entry(
            url=link,
            title=clean_title(str(raw.get("title", ""))) or link,
            paragraphs=paragraphs_from_html(html) if html.strip() else (),
            published_at=_entry_date(raw),
            external_id=str(raw.get("id", "")) or None,
        )
        entries.append(apply_dateline(entry, dateline))
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

    def _parse(self, response: Response) -> list[Entry]:
        content, content_type = response.content, response.content_type
        if self.common.encoding:  # the per-source override beats whatever the header or the feed declares
            text = response.content.decode(self.common.encoding, errors="replace")
            content = _XML_DECL.sub("", text, count=1).encode("utf-8")
            content_type = "application/xml; charset=utf-8"
        return parse_feed(content, self.options.max_items, content_type=content_type,
                          dateline=None if self.options.fetch_articles else self.options.dateline)

    async def poll(self, http: Fetcher, state: SourceState) -> list[Entry]:
        response = await http.get(self.options.url, headers=self.options.headers, etag=state.etag,
                                  last_modified=state.last_modified, verify=not self.common.insecure)
        if remember_listing(state, response):
            return []
        # feedparser is pure Python and can take a while on a big feed: keep it off the event loop.
        entries = await asyncio.to_thread(self._parse, response)
        state.listed = len(entries)
        if not self.options.fetch_articles:
            return entries
        return await fetch_article_pages(
            http, entries, state, self.options.selectors(), encoding=self.common.encoding,
            verify=not self.common.insecure, headers=self.options.headers,
        )


__all__ = ["RssSource", "clean_space", "parse_feed"]
