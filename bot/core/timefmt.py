"""Times are UTC inside and shown in the organisation's local time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


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


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """A deadline typed by a person: ``36h``/``3d`` from now, or a local date and time."""
    from bot.core.parsing import parse_duration

    cleaned = " ".join(text.strip().split())
    try:
        return now + parse_duration(cleaned)
    except ValueError:
        pass
    local_now = now.astimezone(tz)
    for fmt in _FORMATS:
        try:
            parsed = datetime.strptime(cleaned, fmt)  # noqa: DTZ007 - zone attached below
        except ValueError:
            continue
        if "%Y" not in fmt:
            parsed = parsed.replace(year=local_now.year)
        if "%H" not in fmt:
            parsed = parsed.replace(hour=23, minute=59)
        return parsed.replace(tzinfo=tz)
    return None
