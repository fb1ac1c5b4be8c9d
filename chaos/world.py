"""The news world the daemon watches: two sources (an RSS feed and an HTML listing with article pages) served
by the page server, and the articles the script publishes into them, some of which must alert."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

from tests.servers.pages import PageServer, Route

KEYWORD = "Словения"
_WORDS = ("министр", "встреча", "делегация", "сотрудничество", "визит", "переговоры", "соглашение", "форум",
          "экономика", "торговля", "инвестиции", "энергетика", "транспорт", "культура", "образование", "туризм",
          "меморандум", "парламент", "посольство", "консультации", "проект", "программа", "вопросы", "стороны")
_CONSONANTS = "бвгджзклмнпрстфхцчшщ"
_VOWELS = "аеиоуыэюя"
_HOSTILE = (" <b>не жирный</b>", " <script>alert(1)</script>", " a < b & c > d", ' "кавычки" & «ёлочки»',
            " </a><a href='javascript:x'>", " &amp; &lt;")
FEED_WINDOW = 200  # items a listing shows; the config's max_items matches it, so nothing falls off


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


@dataclass(frozen=True)
class Article:
    source: str
    slug: str
    url: str
    title: str
    paragraphs: tuple[str, ...]
    matching: bool
    published_at: datetime


@dataclass
class World:
    server: PageServer
    rng: random.Random
    articles: list[Article] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._render("rss")
        self._render("html")

    def _word(self) -> str:
        """A real word now and then, otherwise a made-up one: every article is its own story (near-duplicate
        grouping would rightly merge articles written from a small vocabulary into one alert)."""
        if self.rng.random() < 0.3:
            return self.rng.choice(_WORDS)
        return "".join(self.rng.choice(_CONSONANTS) + self.rng.choice(_VOWELS) for _ in range(self.rng.randint(2, 4)))

    def _sentence(self, n: int) -> str:
        return " ".join(self._word() for _ in range(n)).capitalize() + "."

    def publish(self, source: str, *, matching: bool) -> Article:
        """A new article on `source` ("rss" or "html"); `matching` ones mention the watched country."""
        number = len(self.articles) + 1
        slug = f"{source}-{number:04d}-{self.rng.getrandbits(32):08x}"  # unique text: never a duplicate story
        paragraphs = [f"{self._sentence(8)} {slug}.", self._sentence(12)]
        if matching:
            paragraphs.insert(1, f"{self._sentence(5)} {KEYWORD} {self._sentence(4)}")
        title = f"{self._sentence(5)[:-1]} ({number})"
        if self.rng.random() < 0.3:  # source text that must stay text in Telegram HTML and email HTML
            title += self.rng.choice(_HOSTILE)
        article = Article(source, slug, self.server.url(f"/{source}/a/{slug}"), title,
                          tuple(paragraphs), matching, datetime.now(UTC))
        self.articles.append(article)
        self.server.set_route(f"/{source}/a/{slug}", Route(self._page(article)))
        self._render(source)
        return article

    def expected(self) -> list[Article]:
        return [a for a in self.articles if a.matching]

    @staticmethod
    def _page(article: Article) -> bytes:
        body = "".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
        return (f"<html><head><meta charset='utf-8'><title>{escape(article.title)}</title></head><body>"
                f"<h1>{escape(article.title)}</h1><article>{body}</article></body></html>").encode()

    def _render(self, source: str) -> None:
        mine = [a for a in self.articles if a.source == source][-FEED_WINDOW:][::-1]
        if source == "rss":
            items = "".join(
                f"<item><title>{escape(a.title)}</title><link>{a.url}</link><guid>{a.url}</guid>"
                f"<pubDate>{format_datetime(a.published_at)}</pubDate><description><![CDATA["
                + "".join(f"<p>{escape(p)}</p>" for p in a.paragraphs) + "]]></description></item>"
                for a in mine)
            feed = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>chaos</title>{items}'
            body = (feed + "</channel></rss>").encode()
            self.server.set_route("/rss/feed.xml", Route(body, headers={"Content-Type": "application/rss+xml"},
                                                         etag=_etag(body)))
        else:
            cards = "".join(f'<article><a href="/html/a/{a.slug}">{escape(a.title)}</a></article>' for a in mine)
            body = f"<html><body>{cards}</body></html>".encode()
            self.server.set_route("/html/news", Route(body, etag=_etag(body)))  # conditional GET in play

    def sources_toml(self) -> str:
        return (f'[[sources]]\nname = "rss"\nkind = "rss"\nurl = "{self.server.url("/rss/feed.xml")}"\n'
                f'interval = "1s"\njitter = "0s"\nmax_items = {FEED_WINDOW}\n\n'
                f'[[sources]]\nname = "html"\nkind = "html"\nurl = "{self.server.url("/html/news")}"\n'
                f'interval = "1s"\njitter = "0s"\nmax_items = {FEED_WINDOW}\n\n')
