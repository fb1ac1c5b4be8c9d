"""What listing-based sources share: remembering a listing's validators, and fetching article pages (skipping
what is stored, tolerating single failures) reduced to title, date and paragraphs by CSS selectors."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, replace

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from monitor.errors import FetchError
from monitor.extract import (
    charset_from_content_type,
    clean_space,
    clean_title,
    decode,
    paragraphs_from_node,
    parse_date,
    strip_dateline,
)
from monitor.fetch import Fetcher, Response
from monitor.models import Entry
from monitor.sources import SourceState

log = logging.getLogger(__name__)


def remember_listing(state: SourceState, response: Response) -> bool:
    """Record what the listing's answer tells about the next poll; True when it was a 304 (nothing new)."""
    state.not_modified = response.not_modified
    state.min_next_poll_s = response.max_age_s
    if not response.not_modified:
        state.etag, state.last_modified = response.etag, response.last_modified
    return response.not_modified


def response_text(response: Response, encoding: str | None) -> str:
    return decode(response.content, charset_from_content_type(response.content_type), encoding)


def node_date(node: Node | None, attr: str | None) -> str | None:
    """The date string of a node: the given attribute, else `datetime` / `content`, else its text."""
    if node is None:
        return None
    attrs = node.attributes
    for key in (attr, "datetime", "content"):
        if key and attrs.get(key):
            return attrs[key]
    return node.text()


@dataclass(frozen=True, slots=True)
class ArticleSelectors:
    """How to read an article page. `dateline` is a regex (named group `date`) removed from the first paragraph."""

    title: str | None = "h1"
    body: str | None = None
    date: str | None = None
    date_attr: str | None = None
    dateline: str | None = None


def apply_dateline(entry: Entry, dateline: str | None) -> Entry:
    """Strip the dateline; its date is used only when the page gave none (it has a day, not a time)."""
    if not dateline:
        return entry
    paragraphs, when = strip_dateline(entry.paragraphs, re.compile(dateline), entry.published_at)
    return replace(entry, paragraphs=paragraphs, published_at=entry.published_at or when)


def extract_article(html: str, entry: Entry, selectors: ArticleSelectors) -> Entry:
    tree = HTMLParser(html)
    title_node = tree.css_first(selectors.title or "h1")
    body_node = tree.css_first(selectors.body) if selectors.body else (tree.css_first("article") or tree.body)
    date_node = tree.css_first(selectors.date) if selectors.date else tree.css_first("time")
    published = entry.published_at
    raw_date = node_date(date_node, selectors.date_attr)
    if raw_date:
        published = parse_date(raw_date) or published
    paragraphs = paragraphs_from_node(body_node)
    if not paragraphs and body_node is None and selectors.body:
        log.warning("article body selector %r matched nothing url=%s", selectors.body, entry.url)
    found = replace(
        entry,
        title=clean_title(title_node.text()) if title_node is not None and clean_space(title_node.text())
        else entry.title,
        paragraphs=paragraphs or entry.paragraphs,
        published_at=published,
    )
    return apply_dateline(found, selectors.dateline)


def _title_key(title: str) -> str:
    return clean_space(title).casefold().rstrip(".…").strip()


def is_known(state: SourceState, entry: Entry) -> bool:
    """Stored already under this URL and the same title: the page need not be fetched again. A card may show
    the title shortened ("…") or none at all; a changed title means an updated article, fetched again."""
    stored = state.known.get(entry.url)
    if stored is None:
        return False
    listed, kept = _title_key(entry.title), _title_key(stored)
    # a card title longer than the stored one is not a shortened one: kt.kz appends "Дополнено" on updates
    return not listed or kept.startswith(listed)


async def fetch_article_pages(
    http: Fetcher, entries: list[Entry], state: SourceState, selectors: ArticleSelectors, *,
    encoding: str | None, verify: bool = True, headers: dict[str, str] | None = None,
) -> list[Entry]:
    """Fetch each entry's page unless the store already has that URL under the same title."""

    late: list[str] = []

    async def one(entry: Entry) -> Entry | None:
        if is_known(state, entry):
            return None
        remaining = None if state.deadline is None else max(0.0, state.deadline - time.monotonic())
        try:
            response = await asyncio.wait_for(http.get(entry.url, verify=verify, headers=headers), remaining)
        except TimeoutError:  # out of this poll's time (waiting for its turn at the host, mostly)
            late.append(entry.url)
            return None
        except FetchError as exc:
            log.warning("article fetch failed url=%s error=%s", entry.url, exc)
            raise
        return extract_article(response_text(response, encoding), entry, selectors)

    results = await asyncio.gather(*(one(e) for e in entries), return_exceptions=True)
    fetched = [r for r in results if isinstance(r, Entry)]
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures or late:
        # Forget the listing's validators: otherwise the next poll gets 304 for an unchanged listing and never
        # retries the pages that failed or were late now (their alerts would wait for the listing to change).
        state.etag = state.last_modified = None
    if late:
        log.info("%d article pages left for the next poll (out of time), first %s", len(late), late[0])
    if (failures or late) and not fetched:
        first = failures[0] if failures else FetchError(
            f"no article page fetched in time ({len(late)} waiting, first {late[0]})")
        raise first if isinstance(first, FetchError) else FetchError(f"article pages failed: {first}")
    return [e for e in fetched if clean_space(e.title) or e.paragraphs]
