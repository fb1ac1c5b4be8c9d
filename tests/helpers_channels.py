"""Sample alerts and HTML checks shared by the render, Telegram, email and bot tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from monitor.models import Alert, Digest

TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                 "blockquote", "tg-spoiler", "span", "tg-emoji"}
VOID = {"br", "meta", "img", "hr", "link", "input"}
EVIL_TITLE = "Визит <script>alert('x')</script> & «Словения»"


def alert(n: int = 1, *, title: str | None = None, snippet: str | None = None,
          rules: tuple[str, ...] = ("Словения",), hours_ago: float = 1.0,
          spans: tuple[tuple[int, int], ...] | None = None,
          also: tuple[str, ...] = ()) -> Alert:
    text = snippet if snippet is not None else f"Посол Казахстана в Словении провёл встречу номер {n}."
    if spans is None:
        start = text.find("Словении")
        spans = ((start, start + len("Словении")),) if start >= 0 else ()
    return Alert(outbox_ids=(n,), story_id=n, item_id=n, title=title or f"Новость {n}",
                 url=f"https://example.kz/news/{n}?a=1&b=2", source="kt-kz",
                 published_at=datetime(2026, 11, 26, 6, 0, tzinfo=UTC) - timedelta(hours=hours_ago),
                 rules=rules, snippet=text, spans=spans, also=also)


def digest(*alerts: Alert, key: str = "digest-1") -> Digest:
    return Digest(recipient="desk", alerts=alerts, timezone="Asia/Almaty", key=key)


class TagChecker(HTMLParser):
    """Records tag balance problems and the text content, as Telegram's own parser would see it."""

    def __init__(self, allowed: set[str] | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.allowed is not None and tag not in self.allowed:
            self.problems.append(f"tag <{tag}> not allowed")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close {self.stack[-1:] or 'anything'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html(markup: str, allowed: set[str] | None = TELEGRAM_TAGS) -> str:
    """Asserts balanced, allowed tags; returns the text a reader sees."""
    checker = TagChecker(allowed)
    checker.feed(markup)
    checker.close()
    assert not checker.problems, (checker.problems, markup[:300])
    assert not checker.stack, (f"unclosed {checker.stack}", markup[-300:])
    return "".join(checker.text)
