from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.htmlsplit import cut_markup, pack_blocks, strip_tags, utf16_len
from monitor.render import email_subject, highlight, new_word, render_email, render_telegram, render_text
from tests.helpers_channels import EVIL_TITLE, alert, check_html, digest

_WS = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _WS.sub("", text)


def test_one_alert_shows_link_source_local_time_rules_and_highlight() -> None:
    [msg] = render_telegram(digest(alert(1, also=("inform-kz", "mfa"), rules=("Словения", "ОИС"))))
    check_html(msg)
    assert '<a href="https://example.kz/news/1?a=1&amp;b=2">Новость 1</a>' in msg
    assert "kt-kz · 26.11.2026 10:00" in msg  # 05:00 UTC -> Asia/Almaty (UTC+5)
    assert "правила: Словения, ОИС" in msg
    assert "также: inform-kz, mfa" in msg
    assert "Посол Казахстана в <b>Словении</b> провёл" in msg


def test_hostile_title_is_escaped_everywhere() -> None:
    d = digest(alert(1, title=EVIL_TITLE, snippet="A & B <i>x</i>", spans=((0, 1),)))
    [msg] = render_telegram(d)
    assert "<script>" not in msg and "&lt;script&gt;" in msg and "&amp; «Словения»" in msg
    assert EVIL_TITLE in check_html(msg)
    mail = render_email(d)
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert EVIL_TITLE in mail.text  # the text part is plain text: no escaping, no markup
    assert "\n" not in mail.subject and "<script>" in mail.subject


def test_digest_groups_by_rule_newest_first_with_counts() -> None:
    d = digest(alert(1, hours_ago=5), alert(2, hours_ago=1),
               alert(3, rules=("ОИС",), snippet="ОИС", spans=((0, 3),)))
    [msg] = render_telegram(d)
    check_html(msg)
    assert msg.startswith("<b>Монитор: 3 новых</b>")
    assert "• Словения: 2" in msg and "• ОИС: 1" in msg
    assert msg.index("Новость 2") < msg.index("Новость 1")  # newest first
    assert msg.index("Словения (2)") < msg.index("ОИС (1)")  # the bigger group first
    for n in (1, 2, 3):
        assert msg.count(f"Новость {n}<") == 1


def test_single_rule_digest_names_the_rule_in_the_header_only() -> None:
    [msg] = render_telegram(digest(alert(1), alert(2)))
    assert msg.startswith("<b>Монитор: 2 новых по «Словения»</b>\n\n<b><a")
    assert "(2)" not in msg and "•" not in msg


def test_counts_agree_in_russian() -> None:
    assert [new_word(n) for n in (1, 2, 5, 11, 21, 111, 101)] == \
        ["новое", "новых", "новых", "новых", "новое", "новых", "новое"]
    two = digest(alert(1), alert(2, rules=("ОИС",)))
    assert email_subject(two) == "Монитор: 2 новых по «Словения», «ОИС»"
    assert email_subject(digest(alert(1))) == "Монитор: 1 новое по «Словения» — Новость 1"


def test_overlapping_and_out_of_range_spans_highlight_cleanly() -> None:
    assert str(highlight("abcdef", ((1, 3), (2, 4), (10, 12), (5, 5)))) == "a<b>bcd</b>ef"
    assert str(highlight("<&>", ((1, 2),))) == "&lt;<b>&amp;</b>&gt;"


def _assert_split_ok(full: str, messages: list[str], limit: int) -> None:
    seen = []
    for m in messages:
        assert utf16_len(m) <= limit
        seen.append(check_html(m))
    assert _squash("".join(seen)) == _squash(strip_tags(full))  # nothing lost, nothing twice


def test_long_digest_splits_between_alerts() -> None:
    d = digest(*(alert(n, hours_ago=n) for n in range(1, 120)))
    messages = render_telegram(d)
    assert len(messages) > 1
    _assert_split_ok("\n\n".join(messages), messages, 4096)
    for m in messages:  # each alert whole in one message
        assert m.count("<blockquote>") == m.count("</blockquote>")
        assert m.count("<a href") == m.count("</a>")
    joined = "".join(messages)
    assert all(joined.count(f">Новость {n}<") == 1 for n in range(1, 120))


def test_overlong_paragraph_is_cut_with_tags_balanced_and_emoji_counted_as_two() -> None:
    words = [f"слово{i} 🇰🇿 Словении" for i in range(800)]
    text = " ".join(words)
    spans = tuple((m.start(), m.end()) for m in re.finditer("Словении", text))
    d = digest(alert(1, snippet=text, spans=spans))
    [full] = pack_blocks([render_telegram(d, limit=10**6)[0]], 10**6)
    messages = render_telegram(d)
    assert len(messages) >= 3
    assert any(len(m) <= 4096 < utf16_len(m) + 500 for m in messages)
    _assert_split_ok(full, messages, 4096)
    assert all(m.rstrip().endswith("</blockquote>") for m in messages)


def test_line_without_spaces_is_cut_mid_word_but_never_inside_an_entity() -> None:
    markup = "<b>" + "&amp;" * 3000 + "</b>"
    pieces = cut_markup(markup, 100)
    _assert_split_ok(markup, pieces, 100)
    assert all(p.startswith("<b>&amp;") for p in pieces)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab <>&\n😀йё\"'"), max_size=300), min_size=1, max_size=6),
       st.integers(min_value=120, max_value=400))
def test_split_property(snippets: list[str], limit: int) -> None:
    alerts = [alert(n, snippet=s, spans=((0, len(s) // 2),)) for n, s in enumerate(snippets, 1)]
    d = digest(*alerts)
    full = render_telegram(d, limit=10**6)
    messages = render_telegram(d, limit=limit)
    _assert_split_ok("\n\n".join(full), messages, limit)


def test_email_has_text_and_html_with_inline_css_only() -> None:
    d = digest(alert(1, also=("mfa",)), alert(2, rules=("ОИС",)))
    mail = render_email(d)
    check_html(mail.html, allowed=None)
    assert "<style" not in mail.html and "<link" not in mail.html and "<script" not in mail.html
    assert 'href="https://example.kz/news/1?a=1&amp;b=2"' in mail.html
    assert "https://example.kz/news/1?a=1&b=2" in mail.text
    assert "Словения (1)" in mail.text and "также: mfa" in mail.text
    assert "26.11.2026 10:00" in mail.html


def test_console_text() -> None:
    out = render_text(digest(alert(1), alert(2)))
    assert out.startswith("== desk: 2 новых ==")
    assert "* Новость 1" in out and "> Посол Казахстана в Словении" in out


def test_absurd_url_and_whitespace_do_not_break_splitting() -> None:
    a = replace(alert(1, snippet="x" + " " * 9000 + "y", spans=((0, 1),)), url="https://e.kz/" + "q" * 5000)
    d = digest(a, alert(2))
    messages = render_telegram(d)
    assert all(utf16_len(m) <= 4096 for m in messages)
    for m in messages:
        check_html(m)
    assert render_telegram(digest()) == []
