"""Deterministic benchmark corpus: article pages, listings and feeds in the structure of each preset, and
watch rules by the thousand.

Article `i` depends only on (seed, i), so 5,000 or 100,000 articles can be produced lazily in any order. The
text comes from real Russian press paragraphs copied into bench/data (never from the seeds outside the repository); each
article's last paragraph ends with its own number, so that no two share a content hash.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from html import escape
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
STYLES = ("generic", "kt-kz", "inform-kz")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
_ASTANA = timezone(timedelta(hours=5))
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[А-ЯЁA-Z«])")


@lru_cache(maxsize=1)
def paragraphs() -> tuple[str, ...]:
    return tuple(p.strip() for p in (DATA / "paragraphs.txt").read_text(encoding="utf-8").splitlines() if p.strip())


@lru_cache(maxsize=1)
def titles() -> tuple[str, ...]:
    return tuple(t.strip() for t in (DATA / "titles.txt").read_text(encoding="utf-8").splitlines() if t.strip())


_NAV_WORDS = ("Политика", "Экономика", "Общество", "В мире", "Спорт", "Культура", "Наука", "Регионы",
              "Происшествия", "Интервью", "Мнения", "Фото", "Видео", "Пресс-релизы", "Архив", "Контакты")
_SCRIPT = ("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
           "gtag('js',new Date());gtag('config','G-XXXXXXX');(function(w,d,s){var f=d.getElementsByTagName(s)[0],"
           "j=d.createElement(s);j.async=true;j.src='/static/app.js?v=20261126';f.parentNode.insertBefore(j,f);"
           "})(window,document,'script');</script>")
_STYLE = ("<style>.menu{display:flex;gap:12px}.menu a{color:#123;text-decoration:none}.card{padding:8px;"
          "border-bottom:1px solid #eee}.page-content p{line-height:1.6;margin:0 0 1em}footer{font-size:12px}"
          "</style>")


@dataclass(frozen=True, slots=True)
class Article:
    index: int
    source: int
    slug: str
    title: str
    published: datetime
    paragraphs: tuple[str, ...]

    def path(self) -> str:
        return f"/s{self.source}/{self.slug}.html"


@lru_cache(maxsize=1)
def sentences() -> tuple[str, ...]:
    out: list[str] = []
    for p in paragraphs():
        out += [x.strip() + ("" if x.rstrip().endswith((".", "!", "?")) else ".")
                for x in _SENTENCE.split(p) if x.strip()]
    return tuple(out)


@lru_cache(maxsize=1)
def vocabulary() -> tuple[str, ...]:
    """20,000 Russian word forms sampled from the pymorphy3 dictionary (bench/data/words.txt)."""
    return tuple(w for w in (DATA / "words.txt").read_text(encoding="utf-8").split() if w)


def _vary(text: str, rng: random.Random, share: float = 0.3, *, names: bool = False) -> str:
    """Swap a share of the lower-case words for dictionary words: 224 seed sentences alone would make every
    article a near-duplicate of every other (one vocabulary), which real traffic is not. Capitalized words
    (names, countries) are kept, so rules still fire."""
    words = vocabulary()
    return " ".join(rng.choice(words) if len(w) > 3 and w.isalpha() and (names or w.islower())
                    and rng.random() < share else w for w in text.split(" "))


def _title(rng: random.Random) -> str:
    """A headline: a real one, or the start of a real sentence, varied like the text."""
    if rng.random() < 0.3:
        return _vary(rng.choice(titles()), rng)
    words = rng.choice(sentences()).rstrip(".!?").split(" ")
    return _vary(" ".join(words[:rng.randint(6, 12)]), rng)


def article(i: int, *, seed: int = 1, sources: int = 1000, distinct: bool = False) -> Article:
    """Paragraphs of 2-4 sentences drawn from the whole pool: the text reads like press prose, yet two
    articles rarely share a paragraph (as two unrelated news items do not), so the story index sees the
    candidate rates of real traffic instead of one endless story."""
    rng = random.Random(seed * 1_000_003 + i)
    pool = sentences()
    headline = _vary(_title(rng), rng, 1.0, names=True) if distinct else _title(rng)
    # distinct: every word swapped, so that the story index never joins two articles (latency counts alerts)
    share = 1.0 if distinct else 0.3
    body = tuple(_vary(" ".join(rng.sample(pool, rng.randint(2, 4))), rng, share, names=distinct)
                 for _ in range(rng.randint(3, 6)))
    # the last paragraph ends with the article's own number (a shared closing sentence of its own would
    # make every article a near-duplicate of every other in the story index)
    body = (*body[:-1], f"{body[-1]} Выпуск {i}-{seed}-{rng.randrange(10**9)}.")
    published = NOW - timedelta(minutes=rng.randrange(60 * 20))
    return Article(index=i, source=i % sources, slug=f"news-{i}", title=headline + f" ({i})",
                   published=published, paragraphs=body)


def articles(n: int, *, seed: int = 1, sources: int = 1000) -> Iterator[Article]:
    for i in range(n):
        yield article(i, seed=seed, sources=sources)


def _nav(rng: random.Random, links: int) -> str:
    items = []
    for k in range(links):
        word = _NAV_WORDS[k % len(_NAV_WORDS)]
        items.append(f'<li><a href="/rus/{k % 23}/{rng.randrange(10**6)}">{word} {k}</a></li>')
    return '<nav class="menu"><ul class="menu__list">' + "".join(items) + "</ul></nav>"


def _shell(title: str, inner: str, rng: random.Random, links: int = 100) -> str:
    head = (f'<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>{escape(title)} | Новости</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="/static/site.css?v={rng.randrange(1000)}">{_STYLE}{_SCRIPT}</head>')
    footer = ('<footer class="footer"><p>© 2026 Информационное агентство. При полном или частичном использовании '
              'материалов ссылка обязательна.</p><div class="social share"><a href="/tg">Telegram</a>'
              '<a href="/vk">VK</a></div></footer>' + _SCRIPT)
    nav = _nav(rng, links)
    return f'{head}<body><header class="site-header">{nav}</header><main>{inner}</main>{footer}</body></html>'


def article_html(a: Article, style: str = "generic") -> bytes:
    """One article page, 10-15 KB, with the markup of `style` (a preset name, or the generic html kind)."""
    rng = random.Random(a.index)
    when_iso = a.published.isoformat()
    paras = "".join(f"<p>{escape(p)}</p>" for p in a.paragraphs)
    related = "".join(f'<li><a href="/rus/related/{rng.randrange(10**6)}">{escape(t)}</a></li>'
                      for t in rng.sample(titles(), 4))
    aside = f'<aside class="related"><h3>Читайте также</h3><ul>{related}</ul></aside>'
    if style == "kt-kz":
        local = a.published.astimezone(_ASTANA).strftime("%d.%m.%Y, %H:%M")
        inner = (f'<article class="page"><header class="page-heading"><h1>{escape(a.title)}</h1></header>'
                 f'<div class="page-meta"><span>{local}</span></div>'
                 f'<div class="page-content">{paras}<div class="share">Поделиться: </div></div></article>{aside}')
    elif style == "inform-kz":
        inner = (f'<div class="article"><h1>{escape(a.title)}</h1><time class="meta-date" datetime="{when_iso}">'
                 f'{a.published.strftime("%H:%M")}</time><div class="article__content">{paras}</div></div>{aside}')
    else:
        inner = (f'<article><h1>{escape(a.title)}</h1><time datetime="{when_iso}">{when_iso}</time>'
                 f'{paras}<figure><img src="/i/{a.index}.jpg"><figcaption>Фото: пресс-служба</figcaption></figure>'
                 f'</article>{aside}')
    return _shell(a.title, inner, rng).encode("utf-8")


def listing_html(items: Sequence[Article], style: str = "generic", base: str = "") -> bytes:
    """A section listing whose cards link to `items` (absolute URLs when `base` is given)."""
    rng = random.Random(items[0].index if items else 0)
    cards = []
    for a in items:
        url = base + a.path()
        when = a.published.isoformat()
        if style == "kt-kz":
            local = a.published.astimezone(_ASTANA).strftime("%d.%m.%Y, %H:%M")
            cards.append(f'<div class="news-list__item"><article><a class="news__overlay-link" href="{url}">'
                         f'{escape(a.title)}</a><span class="news__date">{local}</span></article></div>')
        elif style == "inform-kz":
            cards.append(f'<a class="news-card" href="{url}"><h3 class="card-title">{escape(a.title)}</h3>'
                         f'<time class="meta-date" datetime="{when}">{a.published.strftime("%H:%M")}</time></a>')
        else:
            cards.append(f'<article class="card"><a href="{url}">{escape(a.title)}</a>'
                         f'<time datetime="{when}">{when}</time></article>')
    inner = f'<section class="news-list">{"".join(cards)}</section>'
    return _shell("Новости", inner, rng, links=60).encode("utf-8")


def rss_xml(items: Sequence[Article], base: str = "", full_text: bool = True) -> bytes:
    from email.utils import format_datetime

    out = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Лента</title>'
           f"<link>{base}/</link><description>Новости</description>"]
    for a in items:
        body = "".join(f"<p>{escape(p)}</p>" for p in a.paragraphs) if full_text else escape(a.paragraphs[0])
        out.append(f"<item><title>{escape(a.title)}</title><link>{base}{a.path()}</link>"
                   f"<guid>{base}{a.path()}</guid><pubDate>{format_datetime(a.published)}</pubDate>"
                   f"<description><![CDATA[{body}]]></description></item>")
    out.append("</channel></rss>")
    return "".join(out).encode("utf-8")


# The html-kind options that read each style (the same keys as monitor.sources.presets).
STYLE_OPTIONS: dict[str, dict[str, object]] = {
    "generic": {"item": "article.card", "link": "a", "date": "time", "article_title": "h1"},
    "kt-kz": {"item": ".news-list__item > article", "link": ".news__overlay-link", "date": ".news__date",
              "article_title": "header.page-heading h1", "article_body": "div.page-content",
              "article_date": "div.page-meta span"},
    "inform-kz": {"item": "a.news-card", "link": "a", "title": "h3.card-title", "date": "time.meta-date",
                  "article_title": "h1", "article_body": "div.article__content", "article_date": "time.meta-date"},
}
