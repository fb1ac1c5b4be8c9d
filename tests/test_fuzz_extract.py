"""Property tests for extraction: arbitrary HTML and bytes into the extractor, the article page and the listing
parser. Only MonitorError may come out (a listing without a body is a ParseError); nothing else escapes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import MonitorError
from monitor.extract import clean_title, decode, paragraphs_from_html
from monitor.models import Entry
from monitor.sources.html import HtmlOptions, parse_listing
from monitor.sources.pages import ArticleSelectors, extract_article
from monitor.sources.presets import KT_DATELINE

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
TAGS = ("p", "div", "article", "a", "h1", "h2", "time", "li", "script", "style", "br", "table", "td", "span",
        "figure", "figcaption", "noscript", "iframe", "html", "body", "head", "title")


@st.composite
def html_soup(draw: st.DrawFn) -> str:
    """Tag soup: real tag names, unclosed and misnested, attributes with hrefs and dates, any text between."""
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 40))):
        tag = draw(st.sampled_from(TAGS))
        kind = draw(st.integers(0, 3))
        if kind == 0:
            href = draw(st.sampled_from(("/a/1", "javascript:alert(1)", "http://x/", "", "//h/p", "mailto:x",
                                         "\x00", "http://[::1", "../../" * 5)))
            when = draw(st.text(max_size=20))
            parts.append(f'<{tag} href="{href}" datetime="{when}" class="news__date">')
        elif kind == 1:
            parts.append(f"</{tag}>")
        else:
            parts.append(draw(st.text(max_size=50)))
    return "".join(parts)


any_html = st.one_of(html_soup(), st.text(max_size=500))


@FUZZ
@given(any_html)
def test_paragraphs_from_html_never_raises(html: str) -> None:
    paragraphs = paragraphs_from_html(html)
    assert all(isinstance(p, str) and p == p.strip() and p for p in paragraphs)


@FUZZ
@given(any_html, st.sampled_from((None, "article", "div > p", "h1", "[class]", "time")),
       st.sampled_from((None, "time", ".news__date")), st.sampled_from((None, KT_DATELINE)))
def test_extract_article_never_raises(html: str, body: str | None, date: str | None, dateline: str | None) -> None:
    entry = Entry(url="http://127.0.0.1/a", title="Заголовок", paragraphs=("старый текст",))
    selectors = ArticleSelectors(body=body, date=date, dateline=dateline)
    article = extract_article(html, entry, selectors)
    assert article.url == entry.url
    assert article.published_at is None or article.published_at.tzinfo is not None


@FUZZ
@given(any_html, st.sampled_from(("article", "a", "div", "li a", "p")), st.integers(1, 50))
def test_parse_listing_raises_only_parse_error(html: str, item: str, max_items: int) -> None:
    options = HtmlOptions(url="http://127.0.0.1/list", item=item, date="time", max_items=max_items)
    try:
        entries = parse_listing(html, "http://127.0.0.1/list", options)
    except MonitorError:
        return
    assert len(entries) <= max_items
    assert all(e.url.startswith(("http://", "https://")) for e in entries)


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from((None, "utf-8", "cp1251", "koi8-r", "no-such-codec", "")))
def test_decode_any_bytes(content: bytes, charset: str | None) -> None:
    assert isinstance(decode(content, charset), str)


@FUZZ
@given(st.text())
def test_clean_title_is_idempotent(title: str) -> None:
    once = clean_title(title)
    assert clean_title(once) == once
