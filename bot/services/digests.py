"""The daily digest (bản tin hằng ngày): each coordinator hears about their part of the tree.

Due once a day at ``reminders.digest_time`` local time. Each recipient's stamp
(``members.last_digest_due``) moves by a conditional UPDATE, so a restart or a second
process sends nobody a second copy; a day the bot was down past midnight is skipped,
not sent late. A digest with nothing in it is not sent. A coordinator who registers (or is
approved) after the day's digest time has their first digest at the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import RemindersConfig
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services.directive_text import urgency_mark
from bot.services.notify import Copy, Notifier, Priority
from bot.services.quiet import QuietHours
from bot.services.reminder_text import first_words
from storage.models import Member
from storage.repositories.digests import DigestRepository, Listing

BATCH = 100  # recipients per run (a few seconds of reading); the rest follow a minute later
TITLE = 60
DIRECTIVE_WINDOW = timedelta(days=7)  # older unconfirmed directives were escalated already


def digest_due(config: RemindersConfig, tz: ZoneInfo, now: datetime) -> datetime | None:
    """Today's digest time, once it has come (outside quiet hours); else None."""
    local_now = now.astimezone(tz)
    due = datetime.combine(local_now.date(), config.digest_time, tz)
    if due > local_now or QuietHours.within(config, tz).active(now):
        return None
    return due.astimezone(UTC)


def _short(text: str) -> str:
    return first_words(text, TITLE)


def _section(
    lang: str, key: str, listing: Listing, line: str, render: Callable[[Any], dict[str, Any]]
) -> list[str]:
    if not listing.total:
        return []
    lines = [t(lang, key, count=listing.total)]
    lines += [t(lang, line, **render(row)) for row in listing.rows]
    if listing.total > len(listing.rows):
        lines.append(t(lang, "remind.more", count=listing.total - len(listing.rows)))
    return lines


def _blockers(lang: str, listing: Listing, counts: tuple[int, int]) -> list[str]:
    """ "⛔ 3 vướng mắc chưa xử lý, 1 đang xử lý:", then the first of them, untaken first."""
    open_, taken = counts
    if open_:
        head = t(lang, "alerts.digest_open", count=open_)
        if taken:
            head += ", " + t(lang, "alerts.digest_taken", count=taken)
    else:
        head = t(lang, "alerts.digest_taken_only", count=taken)
    lines = [head + ":"]
    for row in listing.rows:
        unit, task_id, title, is_taken = tuple(row)
        key = "alerts.digest_line_taken" if is_taken else "alerts.digest_line"
        lines.append(t(lang, key, unit=unit, id=task_id, title=_short(title)))
    if listing.total > len(listing.rows):
        lines.append(t(lang, "remind.more", count=listing.total - len(listing.rows)))
    return lines


async def digest_text(
    repo: DigestRepository, member: Member, due: datetime, now: datetime, tz: ZoneInfo
) -> str | None:
    """The digest for the member's subtree, in their language; None when there is no news."""
    lang = member.language
    path = member.unit.path
    reports, reporting_units = await repo.new_reports(path, due - timedelta(days=1), due)
    blocked = await repo.blocked(path)
    overdue = await repo.overdue(path, now)
    unconfirmed = await repo.unconfirmed(path, now - DIRECTIVE_WINDOW)
    unreachable = await repo.unreachable(path)
    unstaffed = await repo.unstaffed(path)
    if not (
        reports
        or blocked.total
        or overdue.total
        or unconfirmed.total
        or unreachable.total
        or unstaffed.total
    ):
        return None
    lines = [
        t(
            lang,
            "digest.header",
            date=due.astimezone(tz).strftime("%d/%m/%Y"),
            scope=member.unit.name,
        )
    ]
    if reports:
        lines.append(t(lang, "digest.reports", count=reports, units=reporting_units))
    if blocked.total:
        lines += _blockers(lang, blocked, await repo.blocked_counts(path))
    lines += _section(
        lang,
        "digest.overdue",
        overdue,
        "digest.overdue_line",
        lambda r: {"id": r[0], "title": _short(r[1]), "when": local(r[2], tz), "pending": r[3]},
    )
    lines += _section(
        lang,
        "digest.unconfirmed",
        unconfirmed,
        "digest.unconfirmed_line",
        lambda r: {
            "id": r[0],
            "text": _short(r[1]),
            "when": local(r[2], tz),
            "pending": r[3],
            "mark": urgency_mark(lang, r[4]),
        },
    )
    lines += _section(
        lang,
        "digest.unreachable",
        unreachable,
        "digest.unreachable_line",
        lambda r: {"name": r[0], "unit": r[1]},
    )
    if unstaffed.total:
        names = ", ".join(row[0] for row in unstaffed.rows)
        more = unstaffed.total - len(unstaffed.rows)
        extra = t(lang, "rollup.nobody_more", count=more) if more else ""
        lines.append(t(lang, "digest.unstaffed", count=unstaffed.total, names=names, more=extra))
    lines.append(t(lang, "digest.footer"))
    return "\n".join(lines)


async def send_digests(
    session: AsyncSession, now: datetime, config: RemindersConfig, tz: ZoneInfo
) -> int:
    """Send the digests due now (a batch of them); returns how many messages were queued."""
    due = digest_due(config, tz, now)
    if due is None:
        return 0
    repo = DigestRepository(session)
    recipients = await repo.due_recipients(due, BATCH)
    if not recipients:
        return 0
    # Read everything first and write at the end: on SQLite the first write takes the
    # database's write lock, which members' own reports must not wait behind.
    texts = {m.id: await digest_text(repo, m, due, now, tz) for m in recipients}
    claimed = await repo.claim([m.id for m in recipients], due)
    notifier = Notifier(session, now)
    copies = [
        Copy(member, text, None, f"digest:{due:%Y-%m-%d}")
        for member in recipients
        if member.id in claimed and (text := texts[member.id]) is not None
    ]
    return await notifier.texts(await notifier.spaced(copies), priority=Priority.BULK)
