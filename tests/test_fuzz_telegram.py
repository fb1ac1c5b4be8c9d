"""Property tests for Telegram and email rendering with hostile source text: any Unicode in titles, snippets,
URLs and source names. Every Telegram part is valid Bot API HTML (allowed tags only, balanced), at most 4096
UTF-16 units, and the parts together say exactly what the whole says; source text is always escaped, in
Telegram HTML and in email HTML."""

from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.htmlsplit import strip_tags, utf16_len
from monitor.render import render_email, render_telegram
from tests.helpers_channels import alert, check_html, digest

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
_WS = re.compile(r"\s+")
HOSTILE = ("<script>alert(1)</script>", "<b>", "</a>", "&amp;", "&", "<", ">", '"', "'", "<a href='x'>",
           "\u202e", "😀", "𝕏", "\u0000", "\r\n", "\t", "<!--", "]]>", "<blockquote>", "&#x1F600;", "&lt;b&gt;")
hostile_text = st.one_of(st.text(max_size=300),
                         st.lists(st.sampled_from(HOSTILE) | st.text(max_size=10), max_size=40).map("".join))
long_text = st.text(alphabet=st.sampled_from("aб 😀&<>\n"), min_size=0, max_size=6000)


def squash(text: str) -> str:
    return _WS.sub("", text)


@st.composite
def hostile_alerts(draw: st.DrawFn) -> list:  # type: ignore[type-arg]
    out = []
    for n in range(1, draw(st.integers(1, 6)) + 1):
        snippet = draw(st.one_of(hostile_text, long_text))
        a, b = sorted((draw(st.integers(-5, len(snippet) + 5)), draw(st.integers(-5, len(snippet) + 5))))
        base = alert(n, title=draw(hostile_text) or f"t{n}", snippet=snippet, spans=((a, b),))
        out.append(replace(base, url=draw(st.sampled_from(("https://x.kz/a?b=1&c=<2>", "javascript:alert(1)",
                                                          'http://x/"onmouseover="x', "http://ok/")))
                           + draw(st.text(max_size=20)),
                           source=draw(hostile_text) or "src", rules=(draw(hostile_text) or "r",)))
    return out


@FUZZ
@given(hostile_alerts(), st.sampled_from((4096, 4096, 500, 200)))
def test_telegram_parts_valid_bounded_and_complete(alerts: list, limit: int) -> None:  # type: ignore[type-arg]
    d = digest(*alerts)
    parts = render_telegram(d, limit=limit)
    whole = "\n\n".join(render_telegram(d, limit=10**9))
    seen = []
    for part in parts:
        assert utf16_len(part) <= limit
        seen.append(check_html(part))  # only Telegram's tags, balanced: source text never became markup
    assert squash("".join(seen)) == squash(strip_tags(whole))
    for a in alerts:  # what the source wrote is shown as text, whole
        assert squash(a.title) in squash("".join(seen)) or len(a.title) > 1000


@FUZZ
@given(hostile_alerts())
def test_email_html_escapes_source_text(alerts: list) -> None:  # type: ignore[type-arg]
    mail = render_email(digest(*alerts))
    text = check_html(mail.html, allowed=None)  # balanced; any tag set, but no tag came from the source
    for a in alerts:
        assert squash(a.title) in squash(text)
    assert "<script" not in mail.html.lower()
