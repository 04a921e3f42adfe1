"""Times are UTC inside and shown in the organisation's local time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.i18n import t
from bot.core.parsing import (
    MAX_DURATION,
    MAX_YEAR,
    MIN_YEAR,
    ParseError,
    parse_duration,
    vietnamese_duration,
)


def local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M %d/%m/%Y")


_FORMATS = (
    "%H:%M %d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%H:%M %d/%m",
    "%d/%m %H:%M",
    "%d/%m/%Y",
    "%d/%m",
    "%Y-%m-%d",
)
_MAX_TYPED = 40  # longer than any form above: not a deadline, and not worth parsing


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """A deadline typed by a person: ``36h``/``3d`` (``36 giờ``/``3 ngày``) from now, or a
    local date and time.

    ``None`` for anything else, including a number without a unit (``5``: five what?), digits
    that are not ASCII, and moments further than ten years away (a typo, and a date overflow).
    The caller decides whether a moment in the past is acceptable.
    """
    cleaned = " ".join(text.strip().split())
    if len(cleaned) <= _MAX_TYPED:
        cleaned = vietnamese_duration(cleaned) or cleaned  # "3 ngày", "36 giờ" → 3d, 36h
    if not cleaned or len(cleaned) > _MAX_TYPED or not cleaned.isascii():
        return None
    try:
        return now + parse_duration(cleaned, bare_seconds=False)
    except ParseError:
        pass
    local_now = now.astimezone(tz)
    for fmt in _FORMATS:
        try:
            parsed = datetime.strptime(cleaned, fmt)  # noqa: DTZ007 - zone attached below
        except ValueError:
            continue
        if "%Y" not in fmt:
            try:
                parsed = parsed.replace(year=local_now.year)
            except ValueError:  # 29/02 typed in a year without it
                return None
        if "%H" not in fmt:
            parsed = parsed.replace(hour=23, minute=59)
        return within_bounds(parsed.replace(tzinfo=tz), now)
    return None


def within_bounds(moment: datetime, now: datetime) -> datetime | None:
    """``moment`` if it lies in the years people plan for and at most ten years ahead."""
    if not MIN_YEAR <= moment.year <= MAX_YEAR or moment - now > MAX_DURATION:
        return None
    return moment


# -- how long: one rendering for time left and time late, in every view and notice ------------
#
# The rule (VOICE.md §3), applied the same way everywhere:
#   1. the gap is rounded to the nearest whole minute (a sweep a few seconds after a reminder
#      point still says what the point meant: 3 days less 20 s is 3 days);
#   2. the minutes are then shown truncated to the precision of their size, never rounded up:
#      under an hour "40 phút"; under a day "5 giờ 20 phút"; under two days "1 ngày 6 giờ";
#      from two days "3 ngày" (2 days 23 hours is "2 ngày", not "3 ngày");
#   3. less than half a minute either side of the deadline is "đến hạn" (due now): the
#      deadline is this minute, neither "còn 0 phút" nor "quá hạn 0 phút".

_DAY_MINUTES = 24 * 60
_HALF_MINUTE = timedelta(seconds=30)
_MINUTE = timedelta(minutes=1)


def whole_minutes(delta: timedelta) -> int:
    """The minutes in ``delta``, either sign, to the nearest (half a minute counts up)."""
    return (abs(delta) + _HALF_MINUTE) // _MINUTE


def _count(lang: str, unit: str, n: int) -> str:
    return t(lang, f"span.{unit}_one") if n == 1 else t(lang, f"span.{unit}s", n=n)


def span(lang: str, delta: timedelta) -> str:
    """How long ``delta`` is, either sign: ``40 phút`` · ``5 giờ 20 phút`` · ``1 ngày 6 giờ`` ·
    ``3 ngày``; ``dưới 1 phút`` under half a minute. The bare duration, for a sentence that
    says itself whether it is left or late; views say it with ``relative``."""
    minutes = whole_minutes(delta)
    if minutes == 0:
        return t(lang, "span.under_minute")
    if minutes < 60:
        return _count(lang, "minute", minutes)
    if minutes < _DAY_MINUTES:
        hours, rest = divmod(minutes, 60)
        big = _count(lang, "hour", hours)
        return t(lang, "span.pair", big=big, small=_count(lang, "minute", rest)) if rest else big
    if minutes < 2 * _DAY_MINUTES:
        hours = (minutes - _DAY_MINUTES) // 60
        big = _count(lang, "day", 1)
        return t(lang, "span.pair", big=big, small=_count(lang, "hour", hours)) if hours else big
    return _count(lang, "day", minutes // _DAY_MINUTES)


def relative(lang: str, left: timedelta) -> str:
    """Time left or late, whole: ``còn 5 giờ 20 phút`` · ``đến hạn`` · ``quá hạn 1 ngày 1 giờ``.

    ``left`` is the deadline minus now: negative once the deadline has passed. The one way
    every view and notice says how far a deadline is (see the rule above).
    """
    if whole_minutes(left) == 0:
        return t(lang, "span.due")
    return t(lang, "span.left" if left > timedelta(0) else "span.late", span=span(lang, left))


def until(lang: str, deadline: datetime, now: datetime) -> str:
    """``relative`` for a deadline seen at ``now``."""
    return relative(lang, deadline - now)


def time_left(lang: str, left: timedelta) -> str:
    """``còn 2 giờ`` for a gap before the deadline (``đến hạn`` within half a minute of it)."""
    return relative(lang, left)


def time_late(lang: str, late: timedelta) -> str:
    """``quá hạn 2 giờ`` for a gap after the deadline (``đến hạn`` within half a minute of it)."""
    return relative(lang, -late)
