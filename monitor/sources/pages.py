"""Fetching article pages for listing-based sources: skip what is stored, tolerate single failures."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from monitor.errors import FetchError
from monitor.extract import (
    charset_from_content_type,
    clean_space,
    clean_title,
    decode,
    paragraphs_from_node,
    parse_date,
)
from monitor.fetch import Fetcher
from monitor.models import Entry
from monitor.sources import SourceState

log = logging.getLogger(__name__)


def extract_article(html: str, entry: Entry, *, body: str | None, title: str | None,
                    date: str | None) -> Entry:
    tree = HTMLParser(html)
    title_node = tree.css_first(title or "h1")
    body_node = tree.css_first(body) if body else (tree.css_first("article") or tree.body)
    date_node = tree.css_first(date) if date else tree.css_first("time")
    published = entry.published_at
    if date_node is not None:
        published = parse_date(date_node.attributes.get("datetime") or date_node.text()) or published
    paragraphs = paragraphs_from_node(body_node)
    return replace(
        entry,
        title=clean_title(title_node.text()) if title_node is not None else entry.title,
        paragraphs=paragraphs or entry.paragraphs,
        published_at=published,
    )


async def fetch_article_pages(
    http: Fetcher, entries: list[Entry], state: SourceState, *, body: str | None, title: str | None,
    date: str | None, encoding: str | None, verify: bool = True,
) -> list[Entry]:
    """Fetch each entry's page unless the store already has that URL under the same title."""

    async def one(entry: Entry) -> Entry | None:
        if state.known.get(entry.url) == entry.title:
            return None
        try:
            response = await http.get(entry.url, verify=verify)
        except FetchError as exc:
            log.warning("article fetch failed url=%s error=%s", entry.url, exc)
            raise
        text = decode(response.content, charset_from_content_type(response.headers.get("content-type")),
                      encoding)
        return extract_article(text, entry, body=body, title=title, date=date)

    results = await asyncio.gather(*(one(e) for e in entries), return_exceptions=True)
    fetched = [r for r in results if isinstance(r, Entry)]
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        # Forget the listing's validators: otherwise the next poll gets 304 for an unchanged listing and never
        # retries the pages that failed now (their alerts would wait for the listing to change, maybe forever).
        state.etag = state.last_modified = None
    if failures and not fetched:
        first = failures[0]
        raise first if isinstance(first, FetchError) else FetchError(f"article pages failed: {first}")
    return [e for e in fetched if clean_space(e.title) or e.paragraphs]
