"""Pieces of text the scheduler's messages share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from bot.core import timefmt
from bot.core.i18n import t
from storage.repositories.reminders import Duty

MAX_CHARS = 3500  # a list stops here, leaving room for header and footer within 4096


def span(lang: str, delta: timedelta) -> str:
    """``3 ngày`` / ``5 giờ 20 phút`` / ``20 phút``: how long ``delta`` is, either sign, by the
    one rule of ``bot.core.timefmt`` (a reminder sent a few seconds after its 3-day point still
    says 3 days). A bare duration for "còn {left}" / "quá {left}"; a whole phrase that also
    says "đến hạn" at the deadline itself is ``time_left`` / ``time_late``."""
    return timefmt.span(lang, delta)


def time_left(lang: str, left: timedelta) -> str:
    """``còn 2 giờ 15 phút``, or ``đến hạn`` within half a minute of the deadline."""
    return timefmt.time_left(lang, left)


def time_late(lang: str, late: timedelta) -> str:
    """``quá hạn 1 ngày 1 giờ``, or ``đến hạn`` within half a minute of the deadline."""
    return timefmt.time_late(lang, late)


def first_words(text: str | None, size: int) -> str:
    """The first line of ``text``, at most ``size`` characters: cut between words (never
    mid-word) and ended with "…" when it is longer."""
    body = (text or "").strip()
    first = body.splitlines()[0].strip() if body else ""
    if len(first) <= size:
        return first
    limit = size - 1  # room for "…"
    head = first[: limit + 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else head
    return cut[:limit].rstrip(" ,.;:") + "…"


def cut_words(text: str, size: int) -> tuple[str, bool]:
    """``text`` whole if it has at most ``size`` characters; else its start, cut between words
    (never mid-word), and True."""
    if len(text) <= size:
        return text, False
    head = text[: size + 1]
    cut = head.rsplit(None, 1)[0] if head.split(None, 1)[1:] else head[:size]
    return cut[:size].rstrip(" ,.;:\n"), True


def duty_status(lang: str, duty: Duty) -> str:
    """A unit's standing on a task: its last report, or that it never reported."""
    if duty.state is None or duty.reported_at is None:
        return t(lang, "remind.never_reported")
    key = "report.standing_returned" if duty.returned_at is not None else "report.standing"
    return t(lang, key, state=t(lang, f"report.state_{duty.state}"), progress=duty.progress)


def bounded(lang: str, lines: Iterable[str], total: int, room: int = MAX_CHARS) -> list[str]:
    """As many of ``lines`` as fit in ``room`` characters (one message), then "… and N more"
    for the rest (a lazy ``lines`` is rendered only as far as it fits)."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > room:
            break
        kept.append(line)
        size += len(line) + 1
    if total > len(kept):
        kept.append(t(lang, "remind.more", count=total - len(kept)))
    return kept
