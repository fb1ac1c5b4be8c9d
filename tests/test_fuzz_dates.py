"""Property tests for the date parsers: any text gives an aware UTC datetime or None, never an exception."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.extract import parse_date
from monitor.rudate import parse_russian_date

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
MONTHS = ("января", "Февраля", "марта", "апреля", "мая", "Июнь", "июля", "августа", "сентября", "октября",
          "ноября", "декабря", "май", "Августа", "мартобря")

# Text shaped like the sites' dates, with the numbers anywhere in range (and beyond it).
datey = st.one_of(
    st.builds(lambda d, m, y, h, mi: f"{h}:{mi:02d}, {d} {m} {y}", st.integers(0, 99), st.sampled_from(MONTHS),
              st.integers(0, 99999), st.integers(0, 99), st.integers(0, 99)),
    st.builds(lambda d, m, y: f"{d}.{m}.{y}, 19:54", st.integers(0, 99), st.integers(0, 99), st.integers(0, 9999)),
    st.builds(lambda d, m: f"Астана. {d} {m}. KAZAKHSTAN TODAY - ", st.integers(0, 99), st.sampled_from(MONTHS)),
    st.builds(lambda s: s, st.from_regex(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?",
                                         fullmatch=True)),
    st.builds(lambda d, y: f"Thu, {d} Nov {y} 09:00:00 +0500", st.integers(0, 99), st.integers(0, 99999)),
)
anything = st.one_of(st.text(), datey, st.text(alphabet="0123456789.:,- TZ+январямаяАвгуст", max_size=60))


@FUZZ
@given(anything)
@example("0001-01-01T00:00:00")  # an unset .NET DateTime, as JSON APIs send it: year 0 in UTC
@example("9999-12-31T23:59:59-05:00")
@example("Mon, 01 Jan 0001 00:00:00 +0500")
def test_parse_date_returns_aware_utc_or_none(text: str) -> None:
    parsed = parse_date(text)
    assert parsed is None or (parsed.tzinfo is not None and parsed.utcoffset() == timedelta(0))
    if parsed is not None:
        assert parsed.astimezone(UTC) == parsed


@FUZZ
@given(st.one_of(anything, st.sampled_from(("Сегодня, 12:30", "вчера 23:59", "Вчера, 00:00", "сегодня 99:99"))),
       st.one_of(st.none(), st.integers(1, 9999)), st.one_of(st.none(), st.dates()))
def test_parse_russian_date_returns_naive_or_none(text: str, year: int | None, today: date | None) -> None:
    parsed = parse_russian_date(text, year, today)
    assert parsed is None or (isinstance(parsed, datetime) and parsed.tzinfo is None)


@FUZZ
@given(anything, st.one_of(st.none(), st.integers(1, 9999)))
def test_parse_date_with_a_default_year(text: str, year: int | None) -> None:
    parsed = parse_date(text, year)
    assert parsed is None or parsed.utcoffset() == timedelta(0)


@FUZZ
@given(st.integers(1, 28), st.sampled_from(list(enumerate(MONTHS[:12], start=1))), st.integers(1971, 2100),
       st.integers(0, 23), st.integers(0, 59))
def test_well_formed_russian_dates_round_trip(day: int, month: tuple[int, str], year: int, hour: int,
                                              minute: int) -> None:
    number, name = month
    parsed = parse_russian_date(f"{hour}:{minute:02d}, {day} {name} {year}")
    assert parsed == datetime(year, number, day, hour, minute)
