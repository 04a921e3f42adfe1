"""Times are UTC inside and shown in the organisation's local time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.parsing import MAX_DURATION, MAX_YEAR, MIN_YEAR, ParseError, parse_duration


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
    """A deadline typed by a person: ``36h``/``3d`` from now, or a local date and time.

    ``None`` for anything else, including a number without a unit (``5``: five what?), digits
    that are not ASCII, and moments further than ten years away (a typo, and a date overflow).
    The caller decides whether a moment in the past is acceptable.
    """
    cleaned = " ".join(text.strip().split())
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
