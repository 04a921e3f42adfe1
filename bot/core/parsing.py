"""What people type, read in one place: numbers, ids, percentages, durations and free text.

Everything that arrives from outside (a chat message, a button, a command-line option, a file,
the configuration) goes through these functions before it becomes a number. They accept
ASCII digits only (``"²"`` and ``"٥"`` pass ``str.isdigit`` but are not numbers here), refuse
what would not fit the database column it is meant for, and raise ``ParseError`` (a
``ValueError``) with a plain English message for logs and the command line; chat handlers
answer from the catalogs instead.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

MAX_ID = 2**31 - 1  # row ids are INTEGER columns (PostgreSQL: 32-bit signed)
MAX_TELEGRAM_ID = 2**53 - 1  # Telegram's user and chat ids fit in 52 bits (BIGINT columns)
MAX_DURATION = timedelta(days=3660)  # ten years: longer is a typo, and would overflow dates
_MAX_DIGITS = 19  # longer runs of digits are refused before int() is asked to convert them

_DIGITS = re.compile(r"[0-9]{1,19}")
_SIGNED = re.compile(r"[+-]?[0-9]{1,19}")
_PART = re.compile(r"([0-9]{1,19})\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MIN_YEAR, MAX_YEAR = 2000, 2100  # dates people type or files carry: beyond is a typo
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")


class ParseError(ValueError):
    """Input that is not what was asked for, or out of its bounds."""


def parse_int(text: str, *, low: int, high: int, signed: bool = False) -> int:
    """An integer written in ASCII digits, ``low <= n <= high``; raise ParseError otherwise."""
    cleaned = text.strip()
    pattern = _SIGNED if signed else _DIGITS
    if not pattern.fullmatch(cleaned):
        raise ParseError(f"not a whole number: {_shown(text)}")
    value = int(cleaned)
    if not low <= value <= high:
        raise ParseError(f"{value} is outside {low}..{high}")
    return value


def parse_id(text: str, *, high: int = MAX_ID) -> int:
    """A row id as people write it (``12`` or ``#12``): 1 to the column's largest value."""
    return parse_int(text.strip().removeprefix("#"), low=1, high=high)


def parse_percent(text: str) -> int:
    """A progress figure, ``0``–``100``, with or without a ``%`` sign."""
    return parse_int(text.strip().removesuffix("%"), low=0, high=100)


def looks_like_number(text: str) -> bool:
    """Whether ``text`` is meant as a number (``-5``, ``150%``, ``60.5``, ``٥٠``), however wrong:
    such text gets "that number is out of bounds", not "that is not a number"."""
    core = text.strip().removesuffix("%").strip()
    # Any script's digits count here ("٥٠", "²"): they are refused as numbers, not taken as words.
    return any(c.isdigit() for c in core) and all(c.isdigit() or c in "+-.," for c in core)


def is_int(text: str, *, low: int, high: int) -> bool:
    try:
        parse_int(text, low=low, high=high)
    except ParseError:
        return False
    return True


def parse_duration(
    text: str,
    *,
    low: timedelta = timedelta(0),
    high: timedelta = MAX_DURATION,
    bare_seconds: bool = True,
) -> timedelta:
    """``"7d"``, ``"1h30m"`` or a plain number of seconds, within ``low``..``high``.

    ``bare_seconds=False`` refuses a number without a unit: where people type deadlines and
    validities, ``5`` is a slip (five what?), never five seconds.
    """
    cleaned = text.strip().lower()
    if _DIGITS.fullmatch(cleaned):
        if not bare_seconds:
            raise ParseError(f"no unit in {_shown(text)} (use e.g. 30m, 2h, 7d)")
        seconds = int(cleaned)
    else:
        parts = _PART.findall(cleaned)
        if not parts or _PART.sub("", cleaned).strip():
            raise ParseError(f"not a duration: {_shown(text)} (use e.g. 30s, 10m, 2h, 7d)")
        seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds > MAX_DURATION.total_seconds():
        raise ParseError(f"{_shown(text)} is longer than {format_duration(high)}")
    delta = timedelta(seconds=seconds)
    if not low <= delta <= high:
        raise ParseError(
            f"{_shown(text)} is outside {format_duration(low)}..{format_duration(high)}"
        )
    return delta


def parse_positive_duration(text: str, *, high: timedelta = MAX_DURATION) -> timedelta:
    """A validity or a delay typed by a person: at least one minute, a unit always given."""
    return parse_duration(text, low=timedelta(minutes=1), high=high, bare_seconds=False)


def parse_date(text: str, *, low_year: int = MIN_YEAR, high_year: int = MAX_YEAR) -> date:
    """A calendar day as people and files write it (19/08/2027, 2027-08-19, 19-08-2027,
    19.08.2027), in ASCII digits and within ``low_year``..``high_year``."""
    cleaned = text.strip()
    if not cleaned.isascii() or len(cleaned) > 10:  # strptime takes "٥" and "²" for digits
        raise ParseError(f"not a date: {_shown(text)}")
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007 - a calendar day
        except ValueError:
            continue
        return checked_date(day, low_year=low_year, high_year=high_year)
    raise ParseError(f"not a date: {_shown(text)} (use e.g. 19/08/2027)")


def checked_date(day: date, *, low_year: int = MIN_YEAR, high_year: int = MAX_YEAR) -> date:
    """``day`` itself when its year is within bounds (a file's native date, say)."""
    if not low_year <= day.year <= high_year:
        raise ParseError(f"{day.isoformat()} is outside {low_year}..{high_year}")
    return day


def format_duration(delta: timedelta) -> str:
    """The shortest way to write ``delta`` that ``parse_duration`` reads back (``1d2h``)."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def clean_text(text: str) -> str:
    """Text as the database can keep it: no NUL characters, no lone surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def has_visible(text: str) -> bool:
    """Whether ``text`` shows anything: not only spaces, zero-width or control characters."""
    return any(unicodedata.category(char)[0] not in "CZ" for char in text)


def _shown(text: str) -> str:
    """Input quoted for an error message, cut short (a 5,000-digit number is not repeated)."""
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def without_marks(text: str) -> str:
    """Lower case, without tone marks (``đ`` as ``d``), spaces collapsed: Vietnamese as people
    type it on a phone with or without its marks (``"Trước  Ngày"`` → ``"truoc ngay"``)."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


_VI_UNITS = {"phut": "m", "gio": "h", "tieng": "h", "ngay": "d", "tuan": "w"}
_VI_PART = re.compile(r"([0-9]{1,19}) ?(phut|gio|tieng|ngay|tuan)\b")


def vietnamese_duration(text: str) -> str | None:
    """``"3 ngày"``, ``"36 giờ"``, ``"1 tuần 2 ngày"`` written as ``3d``/``36h``/``1w2d``
    (for ``parse_duration``); None when the text is not such a duration."""
    folded = without_marks(text)
    parts = _VI_PART.findall(folded)
    if not parts or _VI_PART.sub("", folded).strip():
        return None
    return "".join(count + _VI_UNITS[unit] for count, unit in parts)
