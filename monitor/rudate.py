"""Russian dates as the sites write them: `12 марта`, `18 Августа 2026`, `20 Январь 2026`, `28.11.2025, 19:54`,
`21:38, 18 Августа 2026`. Returns a naive datetime (local time of the site) or None."""

from __future__ import annotations

import re
from datetime import datetime

_MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "май": 5, "июн": 6, "июл": 7,
    "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}
_WORDY = re.compile(r"(\d{1,2})\s+([А-Яа-яЁё]+)(?:\s+(\d{4}))?")
_NUMERIC = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def month_number(word: str) -> int | None:
    word = word.lower().replace("ё", "е")
    # Longest stem first so that "ма" (май/мая) does not shadow "март"/"марта".
    for stem in sorted(_MONTHS, key=len, reverse=True):
        if word.startswith(stem) and (stem != "ма" or word in ("май", "мая", "мае")):
            return _MONTHS[stem]
    return None


def parse_russian_date(text: str, default_year: int | None = None) -> datetime | None:
    hour, minute = 0, 0
    if t := _TIME.search(text):
        hour, minute = int(t.group(1)), int(t.group(2))
    try:
        if m := _NUMERIC.search(text):
            return datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)), hour, minute)
        for m in _WORDY.finditer(text):
            month = month_number(m.group(2))
            if month is None:
                continue
            year = int(m.group(3)) if m.group(3) else default_year
            if year is None:
                return None
            return datetime(year, month, int(m.group(1)), hour, minute)
    except ValueError:
        return None
    return None
