"""How a directive reads: its độ khẩn and số hiệu, and what an amendment changed.

The four levels are those of official correspondence (Decree 30/2020/NĐ-CP): Thường, Khẩn,
Thượng khẩn, Hỏa tốc. Only Hỏa tốc goes through quiet hours and is re-reminded at short
intervals; Khẩn and Thượng khẩn are marked and listed first, and otherwise go as Thường.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.i18n import t
from bot.core.parsing import clean_text, has_visible, without_marks
from bot.core.timefmt import local, until
from bot.services.errors import ServiceError
from storage.models import Directive, Urgency

__all__ = [
    "LEVELS",
    "MAX_NUMBER",
    "MAX_TEXT",
    "DirectiveError",
    "Urgency",
    "asked_level",
    "changes",
    "checked_number",
    "checked_text",
    "directive_text",
    "level_label",
    "parse_urgency",
    "passages",
    "rank",
    "revised_text",
    "title",
    "urgency_mark",
    "urgency_of",
]

MAX_TEXT = 3500  # leaves room for the header and status lines within Telegram's 4096
MAX_MESSAGE = 4096
MAX_NUMBER = 50  # the số hiệu column
MIN_ROOM = 150  # characters left for an amendment's passages, else the full text alone
LEVELS = (Urgency.NORMAL, Urgency.URGENT, Urgency.VERY_URGENT, Urgency.FLASH)
CONTEXT = 8  # tokens (about four words) shown around a change
MAX_REPLACEMENTS = 20  # "cũ => mới" lines one message may carry
ARROW = "=>"


class DirectiveError(ServiceError):
    """A directive request that cannot be carried out."""


def _folded(text: str) -> str:
    """Lower case without tone marks or spaces: what people type for a level."""
    return "".join(c for c in without_marks(text) if c.isalnum())


# Folded: the stored values (hoa_toc → hoatoc), Vietnamese with or without tone marks, English.
_TYPED = {
    "thuong": Urgency.NORMAL,
    "normal": Urgency.NORMAL,
    "khan": Urgency.URGENT,
    "urgent": Urgency.URGENT,
    "thuongkhan": Urgency.VERY_URGENT,
    "veryurgent": Urgency.VERY_URGENT,
    "hoatoc": Urgency.FLASH,
    "flash": Urgency.FLASH,
}


def parse_urgency(text: str) -> Urgency | None:
    """A level as stored (``hoa_toc``) or as people write it (``Hỏa tốc``, ``hoả tốc``,
    ``khẩn``, ``flash``); None if it names none. "Thường" and "Thượng" fold alike, so
    "thuong" is Thường and only "thượng khẩn" is Thượng khẩn."""
    if len(text) > 40:
        return None
    return _TYPED.get(_folded(text))


def asked_level(urgency: str | None, urgent: bool = False) -> Urgency:
    """The level asked for (a stored value or a written one); ``urgent`` alone, as before
    there were levels, is Hỏa tốc, and contradicts any other level."""
    if urgency is None:
        return Urgency.FLASH if urgent else Urgency.NORMAL
    level = parse_urgency(urgency)
    if level is None:
        raise DirectiveError("urgency.bad_level", value=urgency[:40])
    if urgent and level is not Urgency.FLASH:
        raise DirectiveError("urgency.conflict", value=level.value)
    return level


def urgency_of(value: str | None) -> Urgency:
    """The level a stored value names; anything unknown reads as Thường."""
    try:
        return Urgency(value or Urgency.NORMAL)
    except ValueError:
        return Urgency.NORMAL


def rank(value: str | None) -> int:
    """Sort key, most urgent first: Hỏa tốc 0, Thượng khẩn 1, Khẩn 2, Thường 3."""
    return len(LEVELS) - 1 - LEVELS.index(urgency_of(value))


def level_label(lang: str, value: str | None) -> str:
    """``Thường``, ``Khẩn``, ``Thượng khẩn``, ``Hỏa tốc`` (the label in running text)."""
    return t(lang, f"urgency.{urgency_of(value).value}")


def urgency_mark(lang: str, value: str | None) -> str:
    """``🔴 Khẩn `` before a line of a list; nothing for Thường (the absence of a mark)."""
    level = urgency_of(value)
    if level is Urgency.NORMAL:
        return ""
    return t(lang, "urgency.mark", level=level_label(lang, level))


def title(lang: str, directive_id: int, value: str | None, number: str | None) -> str:
    """The first lines of a copy: ``🔴 CHỈ ĐẠO HỎA TỐC #12`` and the số hiệu, if any."""
    level = urgency_of(value)
    if level is Urgency.NORMAL:
        line = t(lang, "urgency.title", id=directive_id)
    else:
        line = t(lang, "urgency.title_marked", id=directive_id, tag=t(lang, f"urgency.tag_{level}"))
    if number:
        line += "\n" + t(lang, "urgency.number_line", number=number)
    return line


def checked_number(text: str | None) -> str | None:
    """A số hiệu as typed (``125/CV-BCĐ``), on one line, in NFC, with at least one digit and
    at most MAX_NUMBER characters; None for nothing. Anything else raises DirectiveError."""
    if text is None:
        return None
    number = re.sub(r" {2,}", " ", unicodedata.normalize("NFC", text)).strip()
    if not number:
        return None
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in number):
        raise DirectiveError("urgency.number_control")
    if len(number) > MAX_NUMBER:
        raise DirectiveError("urgency.number_too_long", max=MAX_NUMBER, length=len(number))
    if not any("0" <= c <= "9" for c in number):
        raise DirectiveError("urgency.number_no_digit", value=_short(number))
    return number


def checked_text(text: str) -> str:
    """The directive text, trimmed; empty (or only invisible characters such as a zero-width
    space) or over MAX_TEXT raises DirectiveError."""
    body = clean_text(text).strip()
    if not has_visible(body):
        raise DirectiveError("directive.empty_text")
    if len(body) > MAX_TEXT:
        raise DirectiveError("directive.too_long", max=MAX_TEXT, length=len(body))
    return body


def directive_text(
    lang: str,
    directive: Directive,
    tz: ZoneInfo,
    *,
    confirmed: tuple[str, datetime] | None = None,
    superseded: bool = False,
    reminder: bool = False,
    now: datetime | None = None,
) -> str:
    """The message a recipient sees, with its current state under it. An amendment not yet
    confirmed shows what changed first (the passages, a few words around each), then the
    whole new text. A reminder sent at ``now`` says how long is left."""
    head = t(lang, "directive.reminder_header") + "\n" if reminder and not confirmed else ""
    head += title(lang, directive.id, directive.urgency, directive.document_number)
    head += "\n" + t(lang, "urgency.from_line", author=directive.author_label)
    if directive.version > 1:
        head += "\n" + t(lang, "directive.amended_header", version=directive.version)
    tail = [t(lang, "directive.ack_by", when=local(directive.ack_by, tz))]
    if reminder and now is not None and not confirmed:  # how long is left, as it goes out
        tail[0] += t(lang, "span.suffix", left=until(lang, directive.ack_by, now))
    if confirmed is not None:
        tail.append(
            t(lang, "directive.confirmed_line", by=confirmed[0], at=local(confirmed[1], tz))
        )
    if superseded:
        tail.append(t(lang, "directive.superseded"))
    body = directive.text
    if directive.version > 1 and directive.previous_text is not None and not confirmed:
        # Telegram's 4096 hold the whole text first; the passages get what is left of them.
        room = MAX_MESSAGE - len(head) - len(body) - sum(len(x) + 1 for x in tail) - 120
        found = (
            passages(lang, directive.previous_text, directive.text, min(1000, room))
            if room >= MIN_ROOM
            else []
        )
        if found:
            head += "\n\n" + "\n".join([t(lang, "directive.changes"), *found])
            body = t(lang, "urgency.full_text") + "\n" + body
    return "\n".join([head, "", body, "", *tail])


def changes(before: str, after: str) -> str:
    """Lines removed (−) and added (+) between two versions of a text (for logs; what people
    read is ``directive_text.passages``)."""
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    return "\n".join(
        ("− " if line[0] == "-" else "+ ") + line[2:] for line in diff if line[:1] in "-+"
    )


# -- amendments --------------------------------------------------------------------------------
def revised_text(current: str, typed: str) -> str | None:
    """``current`` with the passages of ``typed`` replaced, when every line of ``typed`` reads
    ``cũ => mới`` (``cũ =>`` removes the passage); None when ``typed`` is a whole new text.

    Each old passage must occur exactly once (after the earlier lines' replacements);
    otherwise DirectiveError, and nothing is replaced.
    """
    lines = [line for line in typed.splitlines() if line.strip()]
    if not lines or len(lines) > MAX_REPLACEMENTS or not all(ARROW in line for line in lines):
        return None
    text = unicodedata.normalize("NFC", current)
    for line in lines:
        old, _, new = unicodedata.normalize("NFC", line).partition(ARROW)
        old, new = old.strip(), new.strip()
        if not old:
            raise DirectiveError("urgency.amend_no_old")
        count = text.count(old)
        if count == 0:
            raise DirectiveError("urgency.amend_not_found", old=_short(old))
        if count > 1:
            raise DirectiveError("urgency.amend_ambiguous", old=_short(old), count=count)
        at = text.index(old)
        head, tail = text[:at], text[at + len(old) :]
        if not new and head.endswith(" ") and tail[:1] in (" ", ",", ".", ";", ":", ""):
            head = head[:-1]  # "a b c" without "b" is "a c", not "a  c"
        text = head + new + tail
    return text


# Words (with what joins them inside: 17:00, 25/11, 125/CV-BCĐ), runs of white space, and each
# other mark alone, so a change to a time or a comma shows as just that.
_TOKEN = re.compile(r"\w+(?:[:/.,\-]\w+)*|\s+|[^\w\s]")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFC", text))


def passages(lang: str, before: str, after: str, budget: int = 900) -> list[str]:
    """What changed between two versions, one line per changed passage with a few words
    around it: ``• Họp lúc “8” → “9” giờ tại …``; removed and added words are marked in
    words the catalog gives. At most ``budget`` characters; a text rewritten through and
    through gives one line that says so."""
    old, new = _tokens(before), _tokens(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < 0.3:
        return [t(lang, "urgency.changes_rewritten")]
    lines: list[str] = []
    groups = list(matcher.get_grouped_opcodes(CONTEXT))
    size = 0
    for shown, group in enumerate(groups):
        found = [
            t(lang, "urgency.change_line", passage=part.strip())
            for part in _group(lang, old, new, group).split("\n")
            if part.strip()
        ]
        more = sum(len(line) + 1 for line in found)
        if size + more > budget:
            if not lines:
                return [t(lang, "urgency.changes_rewritten")]
            lines.append(t(lang, "urgency.changes_more", count=len(groups) - shown))
            break
        lines.extend(found)
        size += more
    return lines


def _group(
    lang: str, old: list[str], new: list[str], group: Iterable[tuple[str, int, int, int, int]]
) -> str:
    ops = list(group)
    pieces: list[str] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            if index == 0:  # a few more words, if that reaches the start of the line
                i1 = _nearby(old, i1, -1)
            if index == len(ops) - 1:
                i2 = _nearby(old, i2, +1)
            piece = "".join(old[i1:i2])
            if index == 0:
                piece = _lead(piece, cut=i1 > 0 and "\n" not in old[i1 - 1])
            if index == len(ops) - 1:
                piece = _trail(piece, cut=i2 < len(old) and "\n" not in old[i2])
            elif index and "\n" in piece:  # changes on two lines: two passages
                piece = piece.split("\n", 1)[0] + "\n" + piece.rsplit("\n", 1)[1]
            pieces.append(piece)
            continue
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        shown = removed if tag == "delete" else added
        space_before = shown[: len(shown) - len(shown.lstrip())]
        space_after = shown[len(shown.rstrip()) :]
        if tag == "replace":
            mark = t(lang, "urgency.change_replace", old=_one_line(removed), new=_one_line(added))
        elif tag == "delete":
            mark = t(lang, "urgency.change_delete", old=_one_line(removed))
        else:
            mark = t(lang, "urgency.change_insert", new=_one_line(added))
        pieces.append(_space(space_before) + mark + _space(space_after))
    return re.sub(r" {2,}", " ", "".join(pieces)).strip()


def _nearby(tokens: list[str], at: int, step: int, reach: int = 6) -> int:
    """``at`` moved to the start (``step`` -1) or end (+1) of its line if that is at most
    ``reach`` tokens away; else ``at`` itself."""
    moved = at
    for _ in range(reach + 1):
        if (step < 0 and moved == 0) or (step > 0 and moved == len(tokens)):
            return moved
        token = tokens[moved - 1] if step < 0 else tokens[moved]
        if "\n" in token:
            return moved
        moved += step
    return at


def _lead(context: str, cut: bool) -> str:
    """The words before a change, from the start of their line."""
    if "\n" in context:
        return context.rsplit("\n", 1)[1]
    return "… " + context.lstrip(" ,.;:") if cut else context


def _trail(context: str, cut: bool) -> str:
    """The words after a change, up to the end of their line."""
    if "\n" in context:
        return context.split("\n", 1)[0]
    return context.rstrip() + " …" if cut else context


def _one_line(text: str) -> str:
    """A passage inside quotes: trimmed, its line breaks shown as " / "."""
    return " / ".join(part.strip() for part in text.strip().splitlines() if part.strip())


def _space(text: str) -> str:
    """The white space beside a change, kept on the change's line."""
    return " " if text else ""


def _short(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
