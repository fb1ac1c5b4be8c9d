"""Digest -> what a channel sends: Telegram HTML messages, an email (text + HTML), console text.

Everything that comes from the outside world (titles, snippets, source names, URLs) is escaped by Jinja2's
autoescape; the only markup we build by hand is the highlight of matched spans, and it escapes each segment
itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from monitor.htmlsplit import TELEGRAM_LIMIT, pack_blocks
from monitor.models import Alert, Digest

_ENV = Environment(
    loader=PackageLoader("monitor", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=False,
)
_HIGHLIGHT_TELEGRAM = Markup("<b>{}</b>")
_HIGHLIGHT_EMAIL = Markup('<b style="background-color:#fef3c7;color:#111827;">{}</b>')
_SPACES = re.compile(r"\s+")
# A link whose <a href> alone would not fit in a message cannot be split safely (and is not a real URL).
MAX_LINK = 2048


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class _AlertView:
    title: str
    url: str
    source: str
    when: str
    rules: tuple[str, ...]
    rules_label: str
    also: tuple[str, ...]
    snippet: Markup
    snippet_text: str


@dataclass(frozen=True, slots=True)
class _Group:
    rule: str
    count: int
    alerts: tuple[_AlertView, ...]


def new_word(n: int) -> str:
    """The agreement of «новое/новых» with a number: 1, 21, 101 новое; 2, 5, 11, 12 новых."""
    return "новое" if n % 10 == 1 and n % 100 != 11 else "новых"


def local_time(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "без даты"
    if moment.tzinfo is None:  # stored times are UTC; a naive one must not shift by the server's zone
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d.%m.%Y %H:%M")


def _merge_spans(spans: tuple[tuple[int, int], ...], size: int) -> list[tuple[int, int]]:
    """Sorted, clamped, non-overlapping spans: overlapping matches must not produce nested or crossed tags."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(size, e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight(snippet: str, spans: tuple[tuple[int, int], ...], wrap: Markup = _HIGHLIGHT_TELEGRAM) -> Markup:
    out = Markup()
    pos = 0
    for start, end in _merge_spans(spans, len(snippet)):
        out += escape(snippet[pos:start]) + wrap.format(snippet[start:end])
        pos = end
    return out + escape(snippet[pos:])


def _view(alert: Alert, timezone: str, wrap: Markup) -> _AlertView:
    return _AlertView(
        title=_SPACES.sub(" ", alert.title).strip() or alert.url,
        url=alert.url if len(alert.url) <= MAX_LINK else "",
        source=alert.source,
        when=local_time(alert.published_at, timezone),
        rules=alert.rules,
        rules_label="правило" if len(alert.rules) == 1 else "правила",
        also=alert.also,
        snippet=highlight(alert.snippet, alert.spans, wrap),
        snippet_text=alert.snippet,
    )


def _newest_first(alerts: tuple[Alert, ...]) -> list[Alert]:
    oldest = datetime.min.replace(tzinfo=UTC)

    def key(a: Alert) -> datetime:
        p = a.published_at
        return oldest if p is None else (p if p.tzinfo else p.replace(tzinfo=UTC))

    return sorted(alerts, key=key, reverse=True)


def _groups(digest: Digest, wrap: Markup) -> list[_Group]:
    """One group per rule; an alert fired by several rules is listed once, under the first of them."""
    by_rule: dict[str, list[_AlertView]] = {}
    for alert in _newest_first(digest.alerts):
        rule = alert.rules[0] if alert.rules else "—"
        by_rule.setdefault(rule, []).append(_view(alert, digest.timezone, wrap))
    # Bigger groups first; among equals, the one with the newest alert (dicts keep insertion order).
    ordered = sorted(by_rule.items(), key=lambda kv: -len(kv[1]))
    return [_Group(rule, len(views), tuple(views)) for rule, views in ordered]


def render_telegram(digest: Digest, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Telegram HTML messages, each within `limit` UTF-16 units, split between alerts where possible."""
    if not digest.alerts:
        return []
    groups = _groups(digest, _HIGHLIGHT_TELEGRAM)
    alert_t = _ENV.get_template("telegram_alert.html.j2")
    if len(digest.alerts) == 1:
        return pack_blocks([alert_t.render(a=groups[0].alerts[0])], limit)
    total = len(digest.alerts)
    blocks = [_ENV.get_template("telegram_header.html.j2").render(
        total=total, total_word=new_word(total), groups=groups)]
    group_t = _ENV.get_template("telegram_group.html.j2")
    for g in groups:
        if len(groups) == 1:  # the header already names the only rule
            blocks.extend(alert_t.render(a=a) for a in g.alerts)
            break
        # The group line travels with its first alert so that a message never ends on an orphan heading.
        first, *rest = (alert_t.render(a=a) for a in g.alerts)
        blocks.append(f"{group_t.render(g=g).strip()}\n{first}")
        blocks.extend(rest)
    return pack_blocks(blocks, limit)


def email_subject(digest: Digest) -> str:
    groups = _groups(digest, _HIGHLIGHT_EMAIL)
    total = len(digest.alerts)
    names = [f"«{g.rule}»" for g in groups[:3]]
    more = f" и ещё {len(groups) - 3}" if len(groups) > 3 else ""
    subject = f"Монитор: {total} {new_word(total)} по {', '.join(names)}{more}"
    if total == 1:
        title = groups[0].alerts[0].title
        subject += f" — {title[:80]}…" if len(title) > 80 else f" — {title}"
    return _SPACES.sub(" ", subject).strip()  # a newline in a header would be a header injection


def render_email(digest: Digest) -> RenderedEmail:
    subject = email_subject(digest)
    groups = _groups(digest, _HIGHLIGHT_EMAIL)
    context = {
        "subject": subject,
        "groups": groups,
        "total": len(digest.alerts),
        "total_word": new_word(len(digest.alerts)),
        "timezone": digest.timezone,
    }
    text = _ENV.get_template("email.txt.j2").render(**context)
    html = _ENV.get_template("email.html.j2").render(**context)
    return RenderedEmail(subject=subject, text=text.strip() + "\n", html=html)


def render_text(digest: Digest) -> str:
    """Plain text for the console channel and `monitor digest --preview`."""
    total = len(digest.alerts)
    header = f"== {digest.recipient}: {total} {new_word(total)} =="
    text = _ENV.get_template("console.txt.j2").render(
        header=header, groups=_groups(digest, _HIGHLIGHT_EMAIL))
    return text.strip() + "\n"
