"""What members write in their own words: report notes, comments, initiatives, resolutions.

A report's note is kept whole, however many messages the phone cut it into; a message that
carries it to someone else carries as much as fits, cut between words, and says where the
rest is. A text delivered whole to others (an initiative, a comment, a resolution) is held to
what one message carries.
"""

from __future__ import annotations

from bot.core.i18n import t
from bot.core.parsing import clean_text, has_visible
from bot.services.errors import ServiceError
from bot.services.reminder_text import cut_words

MAX_NOTE = 12_000  # a report's note: three of the parts a phone cuts a long text into
MAX_SENT = 3_000  # a text sent on whole: with its header, one 4,096-character message
IN_ALERT = 2_500  # how much of a note an alert carries


class NoteError(ServiceError):
    """A note that cannot be kept; the member is told why and what to do next."""


def checked_note(note: str, limit: int = MAX_NOTE) -> str:
    """The note as the database can keep it (no NUL); only invisible characters count as none.
    Longer than ``limit``: refused whole, saying how long it is."""
    cleaned = clean_text(note).strip()
    if not has_visible(cleaned):
        return ""
    if len(cleaned) > limit:
        raise NoteError("report.note_too_long", max=limit, length=len(cleaned))
    return cleaned


def passage(lang: str, note: str, task_id: int, code: str, size: int = IN_ALERT) -> str:
    """The note whole when it fits in ``size``; else its start, cut between words, and where
    the whole of it is read (the unit's history of the task)."""
    head, cut = cut_words(note, size)
    if not cut:
        return note
    return head + "… " + t(lang, "report.note_cut", length=len(note), id=task_id, code=code)
