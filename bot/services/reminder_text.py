"""Pieces of text the scheduler's messages share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from bot.core.i18n import t
from storage.repositories.reminders import Duty

MAX_CHARS = 3500  # a list stops here, leaving room for header and footer within 4096


def span(lang: str, delta: timedelta) -> str:
    """``3 ngày`` / ``5 giờ`` / ``20 phút``: a duration the way people say it, rounded (a
    reminder sent a few seconds after its 3-day point still says 3 days)."""
    minutes = max(1, round(delta.total_seconds() / 60))
    hours = round(minutes / 60)
    if hours >= 24:
        return t(lang, "remind.days", n=round(hours / 24))
    if minutes >= 60:
        return t(lang, "remind.hours", n=hours)
    return t(lang, "remind.minutes", n=minutes)


def duty_status(lang: str, duty: Duty) -> str:
    """A unit's standing on a task: its last report, or that it never reported."""
    if duty.state is None or duty.reported_at is None:
        return t(lang, "remind.never_reported")
    state = t(lang, f"report.state_{duty.state}")
    return t(lang, "remind.status", state=state, progress=duty.progress)


def bounded(lang: str, lines: Iterable[str], total: int) -> list[str]:
    """As many of ``lines`` as fit in one message, then "… and N more" for the rest (a lazy
    ``lines`` is rendered only as far as it fits)."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > MAX_CHARS:
            break
        kept.append(line)
        size += len(line) + 1
    if total > len(kept):
        kept.append(t(lang, "remind.more", count=total - len(kept)))
    return kept
