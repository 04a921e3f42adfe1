"""One message per person per sweep.

A sweep does not send each reminder, overdue notice, re-reminder and escalation as it finds
it: it drops them into a mailbox, and at the end each person gets one message listing what
is theirs, most pressing first, each item with its button (as many as a phone shows), the
rest counted. An item alone is sent as it would read on its own. Under a list, "📋 Xem tất
cả" opens the member's whole list of work (/tasks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.core import callbacks
from bot.core.i18n import t
from bot.services.notify import Addressee, Button, Copy
from bot.services.reminder_text import MAX_CHARS

MAX_BUTTONS = 5  # rows of buttons under one message: more would not fit a phone screen
BUNDLE_REF = "remind:bundle"


@dataclass(frozen=True)
class Entry:
    """One item for one person: its text alone, its line among others, its button."""

    late: bool  # overdue or escalated: listed before what is merely coming up
    due: datetime  # its deadline: the sooner (or the longer past), the higher
    alone: str
    line: str
    button: Button | None
    ref: str

    def rank(self) -> tuple[int, datetime]:
        return (0 if self.late else 1, self.due)


@dataclass
class _Box:
    member: Addressee
    language: str
    entries: list[Entry] = field(default_factory=list)


class Mailbox:
    def __init__(self) -> None:
        self._boxes: dict[int, _Box] = {}

    def add(self, member: Addressee, language: str, entry: Entry) -> None:
        box = self._boxes.setdefault(member.id, _Box(member, language))
        box.entries.append(entry)

    def __len__(self) -> int:
        return len(self._boxes)

    def copies(self, catch_up: bool) -> list[Copy]:
        """One copy per person; ``catch_up``: the bot was down and says this gathers it."""
        return [_render(box, catch_up) for box in self._boxes.values()]


def _render(box: _Box, catch_up: bool) -> Copy:
    lang = box.language
    entries = sorted(box.entries, key=Entry.rank)
    opening = [t(lang, "remind.catch_up")] if catch_up else []
    if len(entries) == 1:
        entry = entries[0]
        keyboard = [[entry.button]] if entry.button else None
        return Copy(box.member, "\n\n".join([*opening, entry.alone]), keyboard, entry.ref)
    lines = [*opening, t(lang, "remind.bundle_header", count=len(entries))]
    shown = _fit(lines, (e.line for e in entries))
    if shown < len(entries):
        lines.append(t(lang, "remind.more", count=len(entries) - shown))
    lines.append(t(lang, "remind.bundle_footer"))
    buttons = [[e.button] for e in entries[:shown] if e.button][:MAX_BUTTONS]
    everything = Button(t(lang, "remind.see_all"), callbacks.encode(callbacks.ListAll()))
    return Copy(box.member, "\n\n".join(lines), [*buttons, [everything]], BUNDLE_REF)


def _fit(lines: list[str], items: Iterable[str]) -> int:
    """Append as many ``items`` as fit one message; returns how many."""
    size = sum(len(line) + 2 for line in lines)
    shown = 0
    for item in items:
        if size + len(item) + 2 > MAX_CHARS:
            break
        lines.append(item)
        size += len(item) + 2
        shown += 1
    return shown
