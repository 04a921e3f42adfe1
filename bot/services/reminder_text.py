"""Pieces of text the scheduler's messages share."""

from __future__ import annotations

from datetime import timedelta

from bot.i18n import t
from storage.repositories.reminders import Duty

MAX_CHARS = 3500  # a list stops here, leaving room for header and footer within 4096


def span(lang: str, delta: timedelta) -> str:
    """``3 ngày`` / ``5 giờ`` / ``20 phút``: a duration the way people say it."""
    minutes = max(1, int(delta.total_seconds() // 60))
    if minutes >= 24 * 60:
        return t(lang, "reminders.days", n=minutes // (24 * 60))
    if minutes >= 60:
        return t(lang, "reminders.hours", n=minutes // 60)
    return t(lang, "reminders.minutes", n=minutes)


def duty_status(lang: str, duty: Duty) -> str:
    """A unit's standing on a task: its last report, or that it never reported."""
    if duty.state is None or duty.reported_at is None:
        return t(lang, "reminders.never_reported")
    state = t(lang, f"report.state_{duty.state}")
    return t(lang, "reminders.status", state=state, progress=duty.progress)


def bounded(lang: str, lines: list[str], total: int) -> list[str]:
    """As many of ``lines`` as fit in one message, then "… and N more" for the rest."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > MAX_CHARS:
            break
        kept.append(line)
        size += len(line) + 1
    if total > len(kept):
        kept.append(t(lang, "reminders.more", count=total - len(kept)))
    return kept
