"""Any HTML news listing described by CSS selectors (selectolax): listing page(s) -> cards -> article pages.

Several listings make one source: `urls = [...]`, or `url` with `{section}` and `sections = [...]`, and/or
`pages = N` (page 2.. as `?page=N`). Everything is data, so a preset is mended in TOML when a site changes."""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict, Field, model_validator
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from monitor.config import SourceConfig
from monitor.errors import ParseError
from monitor.extract import clean_space, clean_title, parse_date
from monitor.fetch import Fetcher
from monitor.models import Entry
from monitor.sources import SourceState
from monitor.sources.pages import (
    ArticleSelectors,
    fetch_article_pages,
    node_date,
    remember_listing,
    response_text,
)

_LOOKS_HTML = re.compile(r"<(html|body|div|article|section|main|a|li|ul)\b", re.IGNORECASE)


class HtmlOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None  # may contain {section}
    urls: list[str] = []
    sections: list[str] = []
    pages: int = Field(default=1, ge=1, le=20)
    page_param: str = "page"
    item: str = "article"  # one card on the listing
    link: str = "a"  # within the card (or the card itself when it is a link); its href is the article URL
    title: str | None = None  # within the card; default: the link's text
    date: str | None = None  # within the card
    date_attr: str | None = None  # attribute holding the date (default: datetime, content, else the text)
    article_title: str | None = "h1"
    article_body: str | None = None
    article_date: str | None = None
    article_date_attr: str | None = None
    dateline: str | None = None  # regex with a `date` group, stripped from the first paragraph
    fetch_articles: bool = True
    max_items: int = Field(default=20, ge=1)  # per listing page
    headers: dict[str, str] = {}

    @model_validator(mode="after")
    def _listing_urls(self) -> HtmlOptions:
        if not self.url and not self.urls:
            raise ValueError("an html source needs `url` or `urls`")
        if self.sections and (not self.url or "{section}" not in self.url):
            raise ValueError("`sections` needs a `url` containing {section}")
        return self

    def listing_urls(self) -> list[str]:
        bases = list(self.urls)
        if self.url:
            if self.sections:
                bases += [self.url.replace("{section}", s) for s in self.sections]
            else:
                bases.append(self.url)
        out = []
        for base in bases:
            out.append(base)
            joiner = "&" if "?" in base else "?"
            out += [f"{base}{joiner}{self.page_param}={n}" for n in range(2, self.pages + 1)]
        return out

    def selectors(self) -> ArticleSelectors:
        return ArticleSelectors(title=self.article_title, body=self.article_body, date=self.article_date,
                                date_attr=self.article_date_attr, dateline=self.dateline)


def parse_listing(html: str, base_url: str, options: HtmlOptions) -> list[Entry]:
    if not _LOOKS_HTML.search(html[:200_000]):
        raise ParseError(f"the listing {base_url} is not an HTML page ({len(html)} characters, no HTML tags)")
    tree = HTMLParser(html)
    entries: list[Entry] = []
    seen: set[str] = set()
    for card in tree.css(options.item):
        link = card if card.tag == "a" and card.attributes.get("href") else card.css_first(options.link)
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
        title_node = (card.css_first(options.title) if options.title else None) or link
        # An overlay link has no text of its own: its aria-label or title attribute names the article.
        title = clean_space(title_node.text()) or link.attributes.get("aria-label") or \
            link.attributes.get("title") or ""
        raw_date = node_date(card.css_first(options.date) if options.date else None, options.date_attr)
        entries.append(Entry(url=url, title=clean_title(title), paragraphs=(), published_at=parse_date(raw_date)))
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
        urls = self.options.listing_urls()
        # One set of validators per source: conditional GET only makes sense with a single listing.
        conditional = len(urls) == 1
        entries: list[Entry] = []
        seen: set[str] = set()
        max_age: float | None = None
        for url in urls:  # one after another: several listings of one site share its politeness budget
            response = await http.get(url, headers=self.options.headers, verify=verify,
                                      etag=state.etag if conditional else None,
                                      last_modified=state.last_modified if conditional else None)
            if conditional:
                if remember_listing(state, response):
                    state.listed = None
                    return []
            else:
                state.etag = state.last_modified = None
            max_age = max(max_age or 0.0, response.max_age_s or 0.0) or None
            for entry in parse_listing(response_text(response, self.common.encoding), response.url, self.options):
                if entry.url not in seen:
                    seen.add(entry.url)
                    entries.append(entry)
        state.min_next_poll_s = max_age
        state.listed = len(entries)
        if not self.options.fetch_articles:
            return entries
        return await fetch_article_pages(http, entries, state, self.options.selectors(),
                                         encoding=self.common.encoding, verify=verify,
                                         headers=self.options.headers)
