"""Split Telegram HTML into messages that fit the Bot API limit, without breaking a tag or an entity.

Telegram counts message length in UTF-16 code units, so an emoji or a rare CJK character costs two. We count
the HTML source, not the parsed text: that is stricter than Telegram (which counts the text after entity
parsing), so a message we accept is never rejected as too long.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

TELEGRAM_LIMIT = 4096

# A tag, a character reference, a run of whitespace, or one other character: the units we never cut inside.
_TOKEN = re.compile(r"<[^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|\w+);|\s{1,64}|[^<&\s]", re.DOTALL)
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][\w-]*)")
_ANY_TAG = re.compile(r"<[^>]*>")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def strip_tags(markup: str) -> str:
    """Telegram HTML -> the plain text a reader sees (the fallback when Telegram rejects our markup)."""
    return html.unescape(_ANY_TAG.sub("", markup))


def _apply(stack: list[tuple[str, str]], token: str) -> list[tuple[str, str]]:
    """The stack of open tags after `token`; unchanged (same object) for anything that is not a tag."""
    if not token.startswith("<"):
        return stack
    m = _TAG_NAME.match(token)
    if m is None or token.endswith("/>"):
        return stack
    name = m.group(1).lower()
    if token.startswith("</"):
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] == name:
                return stack[:i]
        return stack
    return [*stack, (name, token)]


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def cut_markup(markup: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Cut one overlong piece of HTML into balanced pieces of at most `limit` UTF-16 units.

    Prefers a line break, then any whitespace, and cuts mid-word only when a line has no space at all. Tags
    open at
    a cut are closed at the end of one piece and reopened at the start of the next, so every piece parses
    alone.
    """
    tokens = _TOKEN.findall(markup)
    pieces: list[str] = []
    stack: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        out = [tag for _, tag in stack]
        size = sum(utf16_len(t) for t in out)
        st = stack
        j = i
        best_nl: tuple[int, list[tuple[str, str]], int] | None = None
        best_ws: tuple[int, list[tuple[str, str]], int] | None = None
        while j < len(tokens):
            tok = tokens[j]
            new_st = _apply(st, tok)
            if size + utf16_len(tok) + utf16_len(_closing(new_st)) > limit:
                break
            out.append(tok)
            size += utf16_len(tok)
            st = new_st
            j += 1
            if tok.isspace():
                mark = (j, st, len(out))
                best_ws = mark
                if "\n" in tok:
                    best_nl = mark
        if j < len(tokens):
            # Fall back to a mid-line cut only when the break point would waste most of the piece.
            best = best_nl if best_nl and best_nl[0] - i > (j - i) // 2 else best_ws or best_nl
            if best is not None and best[0] > i:
                j, st, n = best
                out = out[:n]
            if j == i:
                raise ValueError(f"limit {limit} is too small for the markup around {tokens[i][:40]!r}")
        piece = "".join(out) + _closing(st)
        if strip_tags(piece).strip():
            pieces.append(piece)
        stack = st
        i = j
    return pieces


def pack_blocks(blocks: Iterable[str], limit: int = TELEGRAM_LIMIT, sep: str = "\n\n") -> list[str]:
    """Join blocks (alerts, headers) into as few messages as fit; a block never straddles two messages
    unless it
    alone exceeds the limit, in which case it is cut with `cut_markup`."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}{sep}{block}" if current else block
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
            current = ""
        if utf16_len(block) <= limit:
            current = block
            continue
        *full, current = cut_markup(block, limit)
        messages.extend(full)
    if current:
        messages.append(current)
    return messages
