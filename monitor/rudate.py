"""Russian dates as the sites write them: `12 марта`, `18 Августа 2026`, `20 Январь 2026`, `28.11.2025, 19:54`,
`21:38, 18 Августа 2026`. Returns a naive datetime (local time of the site) or None.

Months are recognised in the genitive (`марта`), the nominative (`Январь`, `март`) and the prepositional
(`в мае`), in any letter case; English month names are accepted too (kt.kz's English feed)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

# Stems, checked longest first so that "ма" (май/мая/мае) never shadows "март"/"марта".
_MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6, "июл": 7,
    "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}
_STEMS = sorted(_MONTHS, key=len, reverse=True)
_MAY = ("май", "мая", "мае", "маю", "маем")
_WORDY = re.compile(r"(?<!\d)(\d{1,2})\s+([А-Яа-яЁёA-Za-z]+)\.?(?:\s*,?\s*(\d{4}))?")
_WORDY_EN = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:\s*,?\s*(\d{4}))?")
_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?!\d)")
_RELATIVE = re.compile(r"\b(сегодня|today|вчера|yesterday)\b", re.IGNORECASE)
_TIME = re.compile(r"(?<![\d.])([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?!\d)")


def month_number(word: str) -> int | None:
    word = word.lower().replace("ё", "е")
    for stem in _STEMS:
        if word.startswith(stem):
            if stem == "ма" and word not in _MAY:
                continue
            if stem.isascii() and len(word) > 3 and not _english_month(word):
                continue
            return _MONTHS[stem]
    return None


def _english_month(word: str) -> bool:
    names = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
             "october", "november", "december", "sept")
    return any(name.startswith(word) for name in names)


def parse_russian_date(text: str, default_year: int | None = None, today: date | None = None) -> datetime | None:
    """The first date in `text`, with its time if one is written. Without a year, `default_year` is used
    (None: no date). `Сегодня, 18:40` and `Вчера, 09:15` (fresh items on listings) need `today`."""
    hour = minute = second = 0
    if t := _TIME.search(text):
        hour, minute, second = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
    if today is not None and (rel := _RELATIVE.search(text)):
        day = today - timedelta(days=1) if rel.group(1).lower() in ("вчера", "yesterday") else today
        return datetime(day.year, day.month, day.day, hour, minute, second)
    try:
        if m := _NUMERIC.search(text):
            year = int(m.group(3))
            year += 2000 if year < 100 else 0
            return datetime(year, int(m.group(2)), int(m.group(1)), hour, minute, second)
        for m in _WORDY.finditer(text):
            month = month_number(m.group(2))
            if month is None:
                continue
            found_year = int(m.group(3)) if m.group(3) else default_year
            if found_year is None:
                return None
            return datetime(found_year, month, int(m.group(1)), hour, minute, second)
        for m in _WORDY_EN.finditer(text):
            month = month_number(m.group(1))
            if month is None:
                continue
            found_year = int(m.group(3)) if m.group(3) else default_year
            if found_year is None:
                return None
            return datetime(found_year, month, int(m.group(2)), hour, minute, second)
    except ValueError:  # 31 февраля and the like
        return None
    return None
