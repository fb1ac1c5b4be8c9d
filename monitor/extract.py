"""Entry -> Article: paragraphs from HTML, cleaned titles, dates as aware UTC, decoded text, datelines."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from charset_normalizer import from_bytes
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from monitor.rudate import parse_russian_date

ASTANA = timezone(timedelta(hours=5), "Asia/Almaty")
_BLOCK_TAGS = "p, h2, h3, h4, h5, li, blockquote, pre"
_CONTAINERS = ("li", "blockquote")  # their inner <p> are taken instead, so nothing comes out twice
# Never article text: scripts, navigation, share and social widgets, tag lists, related links, forms.
_JUNK = ("script, style, noscript, iframe, nav, aside, footer, form, button, svg, figure figcaption, "
         ".share, .social, .tags, .breadcrumb, .breadcrumbs, .related, .advert, .banner, "
         "[class*=share], [class*=social], [class*=subscribe], [class*=breadcrumb], [class*=read-also], "
         "[class*=related], [class*=readmore]")
_PARA = "\u2029"  # Unicode paragraph separator: marks <br> and block boundaries; whitespace to clean_space
# Whole paragraphs that are never article text: photo and video credits, share prompts, reproduction notices,
# subscription calls. Anchored, so that a sentence merely containing such a word is kept.
_BOILERPLATE = re.compile(
    r"^(фото|photo|фото и видео|видео|video|источник фото|фотография|поделиться|share|теги|tags)\s*[:：]|"
    r"^(поделиться|share|читайте также|read also|теги|tags)\s*$|"
    r"may not be reproduced|^this information may not|"
    r"^(полное или частичное )?(копирование|воспроизведение|использование) (материалов|информации)|"
    r"^при (полном или частичном )?(использовании|копировании|цитировании)|"
    r"^(подписывайтесь|подпишитесь|следите за (нами|новостями)|читайте нас)\b",
    re.IGNORECASE,
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-]+)""", re.IGNORECASE)
# kt.kz and the like: `Астана. 12 марта. KAZAKHSTAN TODAY - ` (English feed: `Astana. March 12. ... - `).
KT_DATELINE = (r"^\s*(?P<place>[А-ЯЁA-Z][\w\- ]{1,40}?)\.\s+"
               r"(?P<date>\d{1,2}\s+[А-Яа-яЁё]+|[A-Za-z]+\.?\s+\d{1,2})\.?\s+KAZAKHSTAN TODAY\s*[-–—]+\s*")


def clean_space(text: str) -> str:
    # str.split() splits on exactly the characters \s matches (no-break space included), 3x faster than re.sub
    return " ".join(text.replace("\u200b", "").split())


def decode(content: bytes, header_charset: str | None = None, override: str | None = None) -> str:
    """Bytes -> text: the per-source override, then the HTTP header, then meta/XML declaration, then detection."""
    for candidate in (override, header_charset, _declared_charset(content)):
        if candidate:
            try:
                return content.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(content[:200_000]).best()
        return content.decode(best.encoding if best else "cp1251", errors="replace")


def _declared_charset(content: bytes) -> str | None:
    head = content[:4096]
    m = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return m.group(1).decode("ascii") if m else None


def charset_from_content_type(value: str | None) -> str | None:
    if not value:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", value, re.IGNORECASE)
    return m.group(1) if m else None


def is_boilerplate(text: str) -> bool:
    return bool(_BOILERPLATE.search(text))


def paragraphs_from_node(node: Node | None) -> tuple[str, ...]:
    """Block-level texts of an article body, without boilerplate; text split at <br> if it has no blocks."""
    if node is None:
        return ()
    for junk in node.css(_JUNK):
        junk.decompose()
    # A line break is whitespace inside a paragraph, and a paragraph boundary in text written without <p>.
    for br in node.css("br"):
        br.replace_with(_PARA)
    # separator="" keeps "<b>word</b>." as "word." (a space before punctuation would shift match spans).
    blocks = [clean_space(n.text(separator="")) for n in node.css(_BLOCK_TAGS)
              if not (n.tag in _CONTAINERS and n.css_first("p") is not None)]
    loose = clean_space(node.text(separator=" "))
    if not blocks or sum(map(len, blocks)) < 0.6 * len(loose):
        # Text bare in a <div>: split at line breaks and block boundaries.
        html = re.sub(r"</?(p|div|h\d|li|blockquote|section|article|tr|table)\b[^>]*>", _PARA, node.html or "",
                      flags=re.IGNORECASE)
        body = HTMLParser(f"<html><body>{html}</body></html>").body
        raw = body.text(separator="") if body is not None else ""
        blocks = [clean_space(chunk) for chunk in raw.split(_PARA)]
    out: list[str] = []
    for b in blocks:
        if b and not is_boilerplate(b) and (not out or out[-1] != b):
            out.append(b)
    return tuple(out)


def paragraphs_from_html(html: str | bytes, selector: str | None = None) -> tuple[str, ...]:
    tree = HTMLParser(html)
    node = tree.css_first(selector) if selector else (tree.body or tree.root)
    return paragraphs_from_node(node)


def paragraphs_from_text(text: str) -> tuple[str, ...]:
    lines = (clean_space(line) for line in text.split("\n"))
    return tuple(line for line in lines if line and not is_boilerplate(line))


_SITE_NAMES = (r"Kazakhstan Today|Казахстан Сегодня|Казинформ|Kazinform|inform\.kz|kt\.kz|Акорда|Akorda|akorda\.kz|"
               r"МИД России|МИД РФ|mid\.ru|gov\.kz|Портал [^|]+|Официальный (сайт|информационный ресурс)[^|]*|"
               r"Новости Казахстана[^|]*|Новости")
_TITLE_SUFFIX = re.compile(rf"(\s*[|—–-]\s*({_SITE_NAMES}))+\s*$", re.IGNORECASE)
_TITLE_PREFIX = re.compile(r"^\s*(Новости|News)\s*[|:]\s*", re.IGNORECASE)


def clean_title(title: str) -> str:
    """A title without the site name appended by the <title> tag (`... | Kazakhstan Today`, `... - Казинформ`)."""
    cleaned = _TITLE_PREFIX.sub("", _TITLE_SUFFIX.sub("", clean_space(title)))
    return cleaned or clean_space(title)


def parse_date(value: str | None, default_year: int | None = None) -> datetime | None:
    """ISO 8601, RFC 822 or a Russian date -> aware UTC; Astana time when no zone is given. None if not understood.
    `default_year` completes dates written without a year (`12 марта`)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = parse_russian_date(value, default_year, today=datetime.now(ASTANA).date())
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ASTANA)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00:00" (an unset .NET date) is before year 1 in UTC: no date
        return None


def strip_dateline(paragraphs: tuple[str, ...], pattern: str | re.Pattern[str],
                   reference: datetime | None) -> tuple[tuple[str, ...], datetime | None]:
    """Remove a news-agency dateline (`Астана. 12 марта. KAZAKHSTAN TODAY - `) from the first paragraph.

    Returns the paragraphs and the dateline's date (aware UTC, Astana midnight), its year taken from `reference`
    (the page's own date): a dateline of 31 December on a page dated 1 January belongs to the year before.
    """
    if not paragraphs:
        return paragraphs, None
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    m = regex.match(paragraphs[0])
    if m is None:
        return paragraphs, None
    rest = paragraphs[0][m.end():].strip()
    stripped = ((rest,) if rest else ()) + paragraphs[1:]
    groups = m.groupdict()
    raw_date = groups.get("date") or ""
    local_ref = reference.astimezone(ASTANA) if reference is not None else None
    year = local_ref.year if local_ref is not None else None
    when = parse_russian_date(raw_date, year) if raw_date else None
    if when is None:
        return stripped, None
    if local_ref is not None and when.date() > local_ref.date() + timedelta(days=1):
        when = when.replace(year=when.year - 1)
    return stripped, when.replace(tzinfo=ASTANA).astimezone(UTC)
