"""Any HTML news listing described by CSS selectors (selectolax): listing page -> cards -> article pages."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from monitor.config import SourceConfig
from monitor.errors import ParseError
from monitor.extract import charset_from_content_type, clean_space, clean_title, decode, parse_date
from monitor.fetch import Fetcher
from monitor.models import Entry
from monitor.sources import SourceState
from monitor.sources.pages import fetch_article_pages


class HtmlOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    item: str = "article"  # one card on the listing
    link: str = "a"  # within the card; its href is the article URL
    title: str | None = None  # within the card; default: the link's text
    date: str | None = None  # within the card
    article_title: str | None = "h1"
    article_body: str | None = None
    article_date: str | None = None
    fetch_articles: bool = True
    max_items: int = 20
    headers: dict[str, str] = {}


def parse_listing(html: str, base_url: str, options: HtmlOptions) -> list[Entry]:
    tree = HTMLParser(html)
    if tree.body is None:
        raise ParseError("the listing page has no HTML body")
    entries: list[Entry] = []
    seen: set[str] = set()
    for card in tree.css(options.item):
        link = card if card.tag == "a" and options.link == "a" else card.css_first(options.link)
        href = link.attributes.get("href") if link is not None else None
        if not href or link is None:
            continue
        try:
            url = urljoin(base_url, href.strip())
        except ValueError:  # "http://[::1" and the like: one broken link must not fail the whole listing
            continue
        if url in seen or not url.startswith(("http://", "https://")):
            continue
        seen.add(url)
        title_node = card.css_first(options.title) if options.title else link
        date_node = card.css_first(options.date) if options.date else None
        published = None
        if date_node is not None:
            published = parse_date(date_node.attributes.get("datetime") or date_node.text())
        entries.append(Entry(url=url, title=clean_title(title_node.text() if title_node else ""),
                             paragraphs=(), published_at=published))
        if len(entries) >= options.max_items:
            break
    return [e for e in entries if clean_space(e.title) or options.fetch_articles]


class HtmlSource:
    kind: ClassVar[str] = "html"
    Config: ClassVar[type[BaseModel]] = HtmlOptions

    def __init__(self, options: HtmlOptions, common: SourceConfig) -> None:
        self.options = options
        self.common = common

    async def poll(self, http: Fetcher, state: SourceState) -> list[Entry]:
        verify = not self.common.insecure
        response = await http.get(self.options.url, headers=self.options.headers, etag=state.etag,
                                  last_modified=state.last_modified, verify=verify)
        state.not_modified = response.not_modified
        if response.not_modified:
            return []
        state.etag, state.last_modified = response.etag, response.last_modified
        text = decode(response.content, charset_from_content_type(response.headers.get("content-type")),
                      self.common.encoding)
        entries = parse_listing(text, response.url, self.options)
        if not self.options.fetch_articles:
            return entries
        return await fetch_article_pages(
            http, entries, state, body=self.options.article_body, title=self.options.article_title,
            date=self.options.article_date, encoding=self.common.encoding, verify=verify,
        )
