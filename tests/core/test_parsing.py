"""Every parser of what people type, against any text: ParseError or a value within bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.parsing import (
    MAX_DURATION,
    MAX_ID,
    MAX_YEAR,
    MIN_YEAR,
    ParseError,
    clean_text,
    format_duration,
    has_visible,
    looks_like_number,
    parse_date,
    parse_duration,
    parse_id,
    parse_int,
    parse_percent,
    parse_positive_duration,
    vietnamese_duration,
)
from bot.core.timefmt import parse_when
from bot.services.plans import parse_deadline

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)

# Any text at all, and text made of what tricks hand-written checks: digits of other scripts,
# superscripts, signs, units, separators, zero-width and NUL characters.
TRICKY = st.text(
    alphabet=st.sampled_from(list("0123456789+-#%:/. smhdwSMHDW²³٥٠०१໑\u200b\x00\ufeff")),
    max_size=30,
)
HUGE = st.builds(lambda n, d: d * n, st.integers(4300, 5000), st.sampled_from("19٥"))
ANY_TEXT = st.one_of(st.text(), TRICKY, HUGE)


@given(ANY_TEXT, st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6), st.booleans())
def test_parse_int_stays_within_bounds_or_refuses(
    text: str, low: int, span: int, signed: bool
) -> None:
    high = low + abs(span)
    try:
        value = parse_int(text, low=low, high=high, signed=signed)
    except ParseError:
        return
    assert low <= value <= high
    assert text.strip().lstrip("+-").isascii()


@given(st.integers(-(10**30), 10**30))
def test_parse_int_reads_back_what_int_writes(n: int) -> None:
    text = str(n)
    if len(text.lstrip("-")) > 19:
        with pytest.raises(ParseError):
            parse_int(text, low=-(10**30), high=10**30, signed=True)
    else:
        assert parse_int(text, low=-(10**30), high=10**30, signed=True) == n


@given(ANY_TEXT)
def test_parse_id_gives_a_row_id_that_fits_the_column(text: str) -> None:
    try:
        value = parse_id(text)
    except ParseError:
        return
    assert 1 <= value <= MAX_ID


@given(st.integers(1, MAX_ID), st.booleans())
def test_parse_id_round_trip(n: int, hashed: bool) -> None:
    assert parse_id(("#" if hashed else "") + str(n)) == n


@pytest.mark.parametrize("text", ["²", "٥٠", "0", "-1", str(MAX_ID + 1), "9" * 5000, "1e3"])
def test_ids_that_isdigit_or_int_would_take_are_refused(text: str) -> None:
    with pytest.raises(ParseError):
        parse_id(text)


@given(ANY_TEXT)
def test_parse_percent_is_0_to_100(text: str) -> None:
    try:
        value = parse_percent(text)
    except ParseError:
        return
    assert 0 <= value <= 100


@given(st.integers(0, 100), st.booleans())
def test_parse_percent_round_trip(n: int, sign: bool) -> None:
    assert parse_percent(f"{n}%" if sign else str(n)) == n


@given(ANY_TEXT, st.booleans())
def test_parse_duration_is_within_its_bounds(text: str, bare: bool) -> None:
    try:
        value = parse_duration(text, bare_seconds=bare)
    except ParseError:
        return
    assert timedelta(0) <= value <= MAX_DURATION


@given(st.integers(0, int(MAX_DURATION.total_seconds())))
def test_format_duration_reads_back(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


@pytest.mark.parametrize("text", ["99999999999d", "9" * 19 + "w", "0d", "5", "-1h", "٥d"])
def test_typed_validities_out_of_bounds_are_refused(text: str) -> None:
    with pytest.raises(ParseError):
        parse_positive_duration(text)


@given(ANY_TEXT)
def test_parse_date_stays_in_the_years_people_plan_for(text: str) -> None:
    try:
        day = parse_date(text)
    except ParseError:
        return
    assert MIN_YEAR <= day.year <= MAX_YEAR


@given(st.dates(date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)))
def test_parse_date_round_trips_both_forms(day: date) -> None:
    assert parse_date(day.strftime("%d/%m/%Y")) == day
    assert parse_date(day.isoformat()) == day


@pytest.mark.parametrize("text", ["19/08/0001", "31/12/9999", "١٩/٠٨/٢٠٢٧", "30/02/2027"])
def test_dates_out_of_bounds_or_not_ascii_are_refused(text: str) -> None:
    with pytest.raises(ParseError):
        parse_date(text)


@given(ANY_TEXT)
def test_typed_deadlines_are_none_or_within_ten_years(text: str) -> None:
    when = parse_when(text, NOW, TZ)
    assert when is None or (MIN_YEAR <= when.year <= MAX_YEAR and when - NOW <= MAX_DURATION)
    deadline = parse_deadline(text, date(2027, 8, 19), NOW, TZ)
    assert deadline is None or MIN_YEAR <= deadline.year <= MAX_YEAR


@pytest.mark.parametrize(
    ("typed", "written"),
    [("3 ngày", "3d"), ("36 giờ", "36h"), ("36 GIO", "36h"), ("1 tuần 2 ngày", "1w2d"),
     ("90 phút", "90m"), ("2 tiếng", "2h"), ("3ngày", "3d")],
)  # fmt: skip
def test_a_duration_typed_in_vietnamese_is_read_as_its_short_form(typed: str, written: str) -> None:
    assert vietnamese_duration(typed) == written
    assert parse_when(typed, NOW, TZ) == parse_when(written, NOW, TZ) is not None


@pytest.mark.parametrize(
    "text", ["5", "99999999999d", "٥d", "²h", "31/12/9999", "0001-01-01", "99999999999 ngày",
             "٥ ngày", "3 ngày rưỡi", "ngày", "3 tháng"],
)  # fmt: skip
def test_deadlines_that_were_taken_wrongly_are_refused(text: str) -> None:
    assert parse_when(text, NOW, TZ) is None
    assert parse_deadline(text, date(2027, 8, 19), NOW, TZ) is None


def test_plan_deadlines_near_the_calendars_end_do_not_overflow() -> None:
    assert parse_deadline("event+999w", date(9999, 12, 1), NOW, TZ) is None
    assert parse_deadline("event-999w", date(1, 1, 2), NOW, TZ) is None
    assert parse_deadline("9999-12-31T23:59:59-12:00", date(2027, 8, 19), NOW, TZ) is None


@given(st.text())
def test_clean_text_is_what_the_database_keeps(text: str) -> None:
    cleaned = clean_text(text)
    assert "\x00" not in cleaned
    cleaned.encode("utf-8")  # raises on a lone surrogate
    assert clean_text(cleaned) == cleaned


@given(st.text(alphabet=st.sampled_from(list(" \t\n\u200b\u200c\u200d\ufeff\x00\u2060"))))
def test_invisible_text_is_not_visible(text: str) -> None:
    assert not has_visible(text)
    assert has_visible(text + "a")


@given(ANY_TEXT)
def test_a_number_is_told_apart_from_a_word_without_raising(text: str) -> None:
    if looks_like_number(text):
        assert any(c.isdigit() for c in text)
    else:
        with pytest.raises(ParseError):
            parse_percent(text)
