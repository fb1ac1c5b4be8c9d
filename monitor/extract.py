"""Entry -> Article: paragraphs from HTML, cleaned titles, dates as aware UTC, decoded text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from charset_normalizer import from_bytes
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

ASTANA = timezone(timedelta(hours=5), "Asia/Almaty")
_BLOCK_TAGS = "p, h2, h3, h4, li, blockquote"
_SPACES = re.compile(r"\s+")
# Lines that are never article text: photo credits, share prompts, reproduction notices.
_BOILERPLATE = re.compile(
    r"^(фото|photo|источник фото|поделиться|share)\s*[:：]|"
    r"may not be reproduced|запрещено|при (полном или частичном )?использовании|подписывайтесь",
    re.IGNORECASE,
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def clean_space(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\xa0", " ")).strip()


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


def paragraphs_from_node(node: Node | None) -> tuple[str, ...]:
    """Block-level texts of an article body, without boilerplate; the whole text if it has no blocks."""
    if node is None:
        return ()
    for junk in node.css("script, style, nav, figure figcaption, .share, .social, noscript, iframe"):
        junk.decompose()
    blocks = [clean_space(n.text(separator=" ")) for n in node.css(_BLOCK_TAGS)]
    if not blocks:
        blocks = [clean_space(line) for line in node.text(separator="\n").split("\n")]
    return tuple(b for b in blocks if b and not _BOILERPLATE.search(b))


def paragraphs_from_html(html: str | bytes, selector: str | None = None) -> tuple[str, ...]:
    tree = HTMLParser(html)
    node = tree.css_first(selector) if selector else (tree.body or tree.root)
    return paragraphs_from_node(node)


def paragraphs_from_text(text: str) -> tuple[str, ...]:
    lines = (clean_space(line) for line in text.split("\n"))
    return tuple(line for line in lines if line and not _BOILERPLATE.search(line))


_TITLE_SUFFIX = re.compile(r"\s*[|—–-]\s*(Kazakhstan Today|Казинформ|Kazinform|inform\.kz|kt\.kz|Акорда)\s*$",
                           re.IGNORECASE)


def clean_title(title: str) -> str:
    return _TITLE_SUFFIX.sub("", clean_space(title))


def parse_date(value: str | None) -> datetime | None:
    """ISO 8601 or RFC 822 -> aware UTC; Astana time when no zone is given. None if not understood."""
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
            from monitor.rudate import parse_russian_date

            parsed = parse_russian_date(value)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ASTANA)
    return parsed.astimezone(UTC)
