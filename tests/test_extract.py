"""Russian dates, datelines, paragraphs without boilerplate, titles, and charsets, as the sites write them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.extract import (
    KT_DATELINE,
    clean_title,
    decode,
    paragraphs_from_html,
    parse_date,
    strip_dateline,
)
from monitor.rudate import month_number, parse_russian_date


@pytest.mark.parametrize(("text", "expected"), [
    ("12 марта", datetime(2026, 3, 12)),
    ("18 Августа 2026", datetime(2026, 8, 18)),
    ("20 Январь 2026", datetime(2026, 1, 20)),
    ("28.11.2025, 19:54", datetime(2025, 11, 28, 19, 54)),
    ("21:38, 18 Августа 2026", datetime(2026, 8, 18, 21, 38)),
    ("11:20, 20 Январь 2026", datetime(2026, 1, 20, 11, 20)),
    ("9 МАЯ 2025", datetime(2025, 5, 9)),
    ("1 май 2025 г.", datetime(2025, 5, 1)),
    ("3 марта 2026 года, 10:05", datetime(2026, 3, 3, 10, 5)),
    ("March 12", datetime(2026, 3, 12)),
])
def test_russian_dates(text: str, expected: datetime) -> None:
    assert parse_russian_date(text, default_year=2026) == expected


def test_today_and_yesterday_on_listings() -> None:
    from datetime import date

    today = date(2026, 3, 1)
    assert parse_russian_date("Сегодня, 18:40", today=today) == datetime(2026, 3, 1, 18, 40)
    assert parse_russian_date("вчера, 09:15", today=today) == datetime(2026, 2, 28, 9, 15)
    assert parse_russian_date("Сегодня, 18:40") is None  # no reference day, no guess


def test_not_dates() -> None:
    assert parse_russian_date("12 марта") is None  # no year and none given
    assert parse_russian_date("31 февраля 2026") is None
    assert parse_russian_date("5 мандаринов 2026") is None
    assert month_number("марта") == 3 and month_number("Мая") == 5 and month_number("мандарин") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-06-09T11:48:00Z", datetime(2026, 6, 9, 11, 48, tzinfo=UTC)),
    ("2026-06-09T11:48:00.123456Z", datetime(2026, 6, 9, 11, 48, 0, 123456, tzinfo=UTC)),
    ("2026-06-09T16:48:00+05:00", datetime(2026, 6, 9, 11, 48, tzinfo=UTC)),
    ("2026-06-09T16:48:00", datetime(2026, 6, 9, 11, 48, tzinfo=UTC)),  # no zone: Astana, UTC+5
    ("28.11.2025, 19:54", datetime(2025, 11, 28, 14, 54, tzinfo=UTC)),
    ("21:38, 18 Августа 2026", datetime(2026, 8, 18, 16, 38, tzinfo=UTC)),
    ("Thu, 12 Mar 2026 16:05:00 +0300", datetime(2026, 3, 12, 13, 5, tzinfo=UTC)),
])
def test_dates_are_stored_in_utc(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


def test_dateline_is_stripped_and_dated_with_the_page_year() -> None:
    page_date = parse_date("13.03.2026, 10:00")
    paragraphs, when = strip_dateline(
        ("Астана. 12 марта. KAZAKHSTAN TODAY - Казахстанские дипломаты провели встречи.", "Второй."),
        KT_DATELINE, page_date)
    assert paragraphs == ("Казахстанские дипломаты провели встречи.", "Второй.")
    assert when == datetime(2026, 3, 11, 19, 0, tzinfo=UTC)  # 12 March, Astana midnight
    # A dateline of 31 December on a page of 1 January belongs to the year before.
    _, when = strip_dateline(("Алматы. 31 декабря. KAZAKHSTAN TODAY - Текст.",), KT_DATELINE,
                             parse_date("01.01.2026, 00:30"))
    assert when == datetime(2025, 12, 30, 19, 0, tzinfo=UTC)
    untouched = ("Любляна, 9 января 2026 года - Посол провёл встречу.",)
    assert strip_dateline(untouched, KT_DATELINE, page_date) == (untouched, None)


def test_paragraphs_without_navigation_share_credits_or_boilerplate() -> None:
    html = """<div class="body">
      <nav><a href="/">Главная</a></nav>
      <p>Фото: МИД РК</p>
      <figure><img src="x.jpg"><figcaption>Посол на встрече</figcaption></figure>
      <p>Посол Казахстана в Словении&nbsp;провёл встречу.</p>
      <blockquote><p>Цитата министра.</p></blockquote>
      <p>Оружие массового поражения запрещено конвенцией.</p>
      <div class="share-buttons"><p>Поделиться</p></div>
      <p>This information may not be reproduced without written permission.</p>
      <p>При использовании материалов ссылка обязательна.</p>
      <p>Подписывайтесь на наш Telegram-канал</p>
      <script>var x = "<p>не текст</p>";</script>
    </div>"""
    assert paragraphs_from_html(html, ".body") == (
        "Посол Казахстана в Словении провёл встречу.",
        "Цитата министра.",
        "Оружие массового поражения запрещено конвенцией.",  # contains a boilerplate word, still text
    )


def test_text_with_line_breaks_becomes_paragraphs() -> None:
    html = '<div class="c">Первый абзац <b>с выделением</b>.<br><br>Второй абзац.<br>Фото: Акорда</div>'
    assert paragraphs_from_html(html, ".c") == ("Первый абзац с выделением.", "Второй абзац.")


@pytest.mark.parametrize(("raw", "clean"), [
    ("Встреча в МИД | Kazakhstan Today", "Встреча в МИД"),
    ("Встреча в МИД - Казинформ", "Встреча в МИД"),
    ("Встреча в МИД — Новости Казахстана | Kazinform", "Встреча в МИД"),
    ("  Казахско-словенские\n консультации  ", "Казахско-словенские консультации"),
    ("Парламентская дипломатия - проводник сотрудничества", "Парламентская дипломатия - проводник сотрудничества"),
])
def test_titles_lose_site_suffixes(raw: str, clean: str) -> None:
    assert clean_title(raw) == clean


def test_charsets() -> None:
    text = "<html><body><p>Посол Казахстана в Словении</p></body></html>"
    cp = text.encode("cp1251")
    assert decode(cp, "windows-1251") == text  # the HTTP header
    declared = b'<meta charset="windows-1251">' + cp
    assert "Посол" in decode(declared, None)  # the meta declaration
    assert "Посол" in decode(b'<?xml version="1.0" encoding="windows-1251"?>' + cp)  # the XML declaration
    assert decode(text.encode("utf-8"), None) == text
    assert decode(cp, "utf-8") == text  # a wrong header: falls back to detection
    long_cp = ("<p>" + "Министерство иностранных дел Республики Казахстан сообщает. " * 20 + "</p>").encode("cp1251")
    assert "Министерство иностранных дел" in decode(long_cp)  # nothing declared: detected
    assert decode(cp, "utf-8", override="cp1251") == text
