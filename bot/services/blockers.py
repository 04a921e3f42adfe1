"""Blockers (gặp khó khăn): alerts a coordinator can read, an owner, and an end.

Alerts. The coordinators above a blocked unit (its parent's, or the nearest staffed level up)
hear of the first blocker at once. Blockers that follow within ``WINDOW`` of the last message
that told them of one ride together in ONE later message, due ``WINDOW`` after it; while that
message waits it is rewritten as more come. So a wave of 60 blockers reaches the committee as
one alert and one grouped follow-up, not 60 messages.

Notes. A member may add a note for 30 minutes after a report. The alert goes at once and never
says "(không có ghi chú)": without a note it simply has no note line. A note that comes while
the message carrying its blocker is still waiting (the follow-up, or an alert behind a busy
outbox) is written into that message; else, when a follow-up is waiting for that coordinator,
it joins the follow-up as a "bổ sung" line; else it goes on at once on its own. When the task
is closed first, what still waits about it is withdrawn (``task_closed``).

Owner and end. A coordinator over the unit takes the blocker on (✋ Đã nắm, đang xử lý) and
later marks it resolved with a note (✅ Đã gỡ vướng mắc); the unit's members hear of both,
after quiet hours if it is night. A taken blocker does not climb the tree; a resolved one
restarts the unit's climb from that moment. A new blocker report clears both marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import callbacks
from bot.core.clock import Clock
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services.authz import Action, Actor, require
from bot.services.errors import ServiceError
from bot.services.members import coordinators_over
from bot.services.notes import MAX_SENT, checked_note, passage
from bot.services.notify import Button, Notifier, Priority, inline_keyboard
from bot.services.plans import report_button
from bot.services.quiet import QuietHours
from bot.services.reminder_text import MAX_CHARS
from storage.models import (
    BlockerAlert,
    Member,
    OutboxMessage,
    Task,
    TaskAssignment,
    TaskReport,
    TaskState,
    Unit,
)
from storage.repositories.blockers import AlertItem, BlockerRepository
from storage.repositories.members import MemberRepository
from storage.repositories.units import parent_path

WINDOW = timedelta(minutes=10)  # blockers after the first within this ride in one message
NOTE_IN_LIST = 300  # a note's length in a grouped message (the whole note: /task N CODE)
TAKE_BUTTONS = 5  # "✋" buttons under a grouped message
LABEL = 20  # characters of a button label


class BlockerError(ServiceError):
    """A take or resolve that cannot be done; nothing changed."""


@dataclass(frozen=True)
class Handled:
    task_id: int
    unit_id: int
    unit_name: str
    told: int  # unit members notified


def alert_ref(member_id: int, task_id: int, unit_id: int) -> str:
    return f"blocker:m{member_id}:t{task_id}:u{unit_id}"


def follow_ref(member_id: int) -> str:
    return f"blockers:m{member_id}"


def take_button(lang: str, task_id: int, unit_id: int, label: str | None = None) -> Button:
    data = callbacks.encode(callbacks.BlockerAction(task_id, unit_id, "take"))
    return Button((label or t(lang, "alerts.take_button"))[:LABEL], data)


def resolve_button(lang: str, task_id: int, unit_id: int) -> Button:
    data = callbacks.encode(callbacks.BlockerAction(task_id, unit_id, "resolve"))
    return Button(t(lang, "alerts.resolve_button"), data)


def alert_buttons(lang: str, task_id: int, unit_id: int) -> list[list[Button]]:
    def verb(name: str) -> str:
        return callbacks.encode(callbacks.UnitAction(task_id, unit_id, name))

    return [
        [take_button(lang, task_id, unit_id)],
        [
            Button(t(lang, "task.return_button"), verb("return")),
            Button(t(lang, "task.history_button"), verb("history")),
        ],
    ]


def alert_text(lang: str, task: Task, unit: Unit, report: TaskReport, tz: ZoneInfo) -> str:
    at = local(report.reported_at, tz)
    text = t(
        lang,
        "alerts.blocker",
        id=task.id,
        title=task.title,
        unit=unit.name,
        progress=report.progress,
        at=at,
    )
    if report.note:
        note = passage(lang, report.note, task.id, unit.code)
        text += "\n" + t(lang, "alerts.blocker_note", note=note)
    return text + "\n" + t(lang, "alerts.blocker_footer")


def _short(note: str) -> str:
    flat = " ".join(note.split())
    return flat if len(flat) <= NOTE_IN_LIST else flat[: NOTE_IN_LIST - 1] + "…"


def _item_line(lang: str, item: AlertItem, tz: ZoneInfo) -> str:
    unit, report = item.unit, item.report
    if item.kind == "note":
        return t(lang, "alerts.group_added", unit=unit.name, note=_short(report.note))
    line = t(
        lang,
        "alerts.group_line",
        unit=unit.name,
        code=unit.code,
        progress=report.progress,
        at=local(report.reported_at, tz),
    )
    if item.taken:
        line += t(lang, "alerts.group_taken")
    if report.note:
        line += "\n" + t(lang, "alerts.group_note", note=_short(report.note))
    return line


def group_text(lang: str, items: list[AlertItem], tz: ZoneInfo) -> tuple[str, list[list[Button]]]:
    """The follow-up: every blocker (and note) since the last message, task by task, as many
    as fit in one message, then how many more."""
    minutes = int(WINDOW.total_seconds() // 60)
    head = t(lang, "alerts.group_header", count=len(items), minutes=minutes)
    foot = t(lang, "alerts.group_footer")
    room = min(4096 - len(head) - len(foot) - 80, MAX_CHARS)  # 80: "… và N mục khác"
    by_task: dict[int, list[AlertItem]] = {}
    for item in items:
        by_task.setdefault(item.task.id, []).append(item)
    lines: list[str] = []
    size = 0
    ordered = [item for group in by_task.values() for item in group]
    for index, item in enumerate(ordered):
        line = _item_line(lang, item, tz)
        if index == 0 or ordered[index - 1].task.id != item.task.id:
            line = (
                t(lang, "alerts.group_task", id=item.task.id, title=item.task.title) + "\n" + line
            )
        if size + len(line) + 1 > room:
            break
        lines.append(line)
        size += len(line) + 1
    shown = len(lines)
    if len(items) > shown:
        lines.append(t(lang, "remind.more", count=len(items) - shown))
    buttons: list[list[Button]] = []
    seen: set[tuple[int, int]] = set()
    for item in items:
        key = (item.task.id, item.unit.id)
        if item.kind != "report" or item.taken or key in seen or len(buttons) >= TAKE_BUTTONS:
            continue
        seen.add(key)
        label = t(lang, "alerts.take_one", id=item.task.id, code=item.unit.code)
        buttons.append([take_button(lang, item.task.id, item.unit.id, label)])
    return "\n".join([head, *lines, foot]), buttons


async def _render(session: AsyncSession, row: OutboxMessage, member: Member, tz: ZoneInfo) -> None:
    """Write the row's text afresh from what it carries (only while it waits to be sent);
    blockers of a task closed since are left out."""
    items = [i for i in await BlockerRepository(session).items(row.id) if i.task.closed_at is None]
    if not items:
        return
    lang = member.language
    if row.ref == follow_ref(member.id):
        text, buttons = group_text(lang, items, tz)
    else:
        first = items[0]
        text = alert_text(lang, first.task, first.unit, first.report, tz)
        buttons = alert_buttons(lang, first.task.id, first.unit.id)
    payload: dict[str, object] = {"chat_id": row.chat_id, "text": text}
    if buttons:
        payload["reply_markup"] = inline_keyboard(buttons)
    row.payload = payload


def _record(
    repo: BlockerRepository,
    member: Member,
    report: TaskReport,
    kind: str,
    row: OutboxMessage,
    now: datetime,
) -> None:
    alert = BlockerAlert(
        member_id=member.id, report_id=report.id, kind=kind, outbox_id=row.id, created_at=now
    )
    repo.add_alert(alert)


async def _join_follow_up(
    session: AsyncSession,
    notifier: Notifier,
    member: Member,
    last: OutboxMessage,
    report: TaskReport,
    kind: str,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """Put the item in the member's waiting follow-up (one due ``WINDOW`` after ``last``)."""
    repo = BlockerRepository(session)
    row = last
    if not (repo.pending(last) and last.ref == follow_ref(member.id)):
        row = notifier.text(member, "…", ref=follow_ref(member.id), priority=Priority.URGENT)
        row.not_before = max(now, last.not_before + WINDOW)
        await session.flush()
    _record(repo, member, report, kind, row, now)
    await session.flush()
    await _render(session, row, member, tz)


async def alert(
    session: AsyncSession, now: datetime, task: Task, unit: Unit, report: TaskReport, tz: ZoneInfo
) -> list[Member]:
    """Tell the coordinators above of a blocker: at once, or in the follow-up (see above).
    Returns who was told."""
    coordinators = await coordinators_over(MemberRepository(session), parent_path(unit.path))
    repo = BlockerRepository(session)
    notifier = Notifier(session, now)
    for member in coordinators:
        last = await repo.latest_row(member.id)
        if last is not None and last.not_before + WINDOW > now:
            await _join_follow_up(session, notifier, member, last, report, "report", now, tz)
            continue
        lang = member.language
        row = notifier.text(
            member,
            alert_text(lang, task, unit, report, tz),
            keyboard=alert_buttons(lang, task.id, unit.id),
            ref=alert_ref(member.id, task.id, unit.id),
            priority=Priority.URGENT,
        )
        await session.flush()
        _record(repo, member, report, "report", row, now)
        for file in report.attachments:  # files go on at once, on their own
            method = "sendPhoto" if file["kind"] == "photo" else "sendDocument"
            caption = t(lang, "report.blocked_file", id=task.id, unit=unit.name)
            urgent = Priority.URGENT
            notifier.file(member, method, file["file_id"], caption=caption, priority=urgent)
    return coordinators


async def note_added(
    session: AsyncSession,
    now: datetime,
    task: Task,
    unit: Unit,
    report: TaskReport,
    note: str,
    tz: ZoneInfo,
) -> int:
    """A note added to a blocker report reaches the coordinators (see above); returns how
    many. ``report.note`` already holds it."""
    coordinators = await coordinators_over(MemberRepository(session), parent_path(unit.path))
    repo = BlockerRepository(session)
    notifier = Notifier(session, now)
    for member in coordinators:
        carrier = await repo.row_for(member.id, report.id)
        if carrier is not None and repo.pending(carrier):
            await _render(session, carrier, member, tz)
            continue
        last = await repo.latest_row(member.id)
        if last is not None and repo.pending(last) and last.ref == follow_ref(member.id):
            await _join_follow_up(session, notifier, member, last, report, "note", now, tz)
            continue
        notifier.message(
            member,
            "report.blocked_more",
            id=task.id,
            unit=unit.name,
            note=passage(member.language, note.strip(), task.id, unit.code),
            priority=Priority.URGENT,
        )
    return len(coordinators)


async def task_closed(session: AsyncSession, task_id: int, tz: ZoneInfo | None = None) -> int:
    """The task is closed: its blocker alerts still waiting in the outbox no longer stand. A
    message that carries only blockers of closed tasks (the grouped follow-up, or a first alert
    behind a busy outbox) is withdrawn; one that carries others too is written afresh without
    this task's (with ``tz``; else it is rewritten when the next blocker joins it). Returns how
    many were withdrawn. Call it once ``task.closed_at`` is set."""
    repo = BlockerRepository(session)
    members = MemberRepository(session)
    withdraw: list[int] = []
    for row in await repo.waiting_rows(task_id):
        items = await repo.items(row.id)
        if all(i.task.id == task_id or i.task.closed_at is not None for i in items):
            withdraw.append(row.id)
            continue
        member = await members.get(row.member_id) if row.member_id is not None else None
        if tz is not None and member is not None:
            await _render(session, row, member, tz)
    await session.flush()
    return await repo.withdraw_rows(withdraw)


# -- taking a blocker on and resolving it ------------------------------------------------------
async def _open(
    session: AsyncSession, actor: Actor, task_id: int, unit_id: int
) -> tuple[TaskAssignment, Task, Unit]:
    found = await BlockerRepository(session).assignment(task_id, unit_id)
    if found is None:
        raise BlockerError("alerts.not_found", id=task_id)
    assignment, task, unit = found
    require(actor, Action.HANDLE_BLOCKER, parent_path(unit.path))
    if task.closed_at is not None:
        raise BlockerError("report.closed", id=task_id)
    if assignment.state != TaskState.BLOCKED or assignment.blocker_resolved_at is not None:
        raise BlockerError("alerts.not_blocked", id=task_id, unit=unit.name)
    return assignment, task, unit


async def _tell_unit(
    session: AsyncSession,
    now: datetime,
    quiet: QuietHours | None,
    task: Task,
    unit: Unit,
    key: str,
    ref: str,
    **params: str,
) -> int:
    notifier = Notifier(session, now, hold_until=quiet.hold(now) if quiet is not None else None)
    members = await MemberRepository(session).active_in_units([unit.id])
    for member in members:
        lang = member.language
        notifier.text(
            member,
            t(lang, key, id=task.id, title=task.title, **params),
            keyboard=report_button(lang, task.id),
            ref=ref,
        )
    return len(members)


async def _name(session: AsyncSession, member_id: int | None, actor: Actor) -> str:
    found = await MemberRepository(session).get(member_id) if member_id else None
    return found.full_name if found is not None else actor.label


async def take(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    task_id: int,
    unit_id: int,
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
) -> Handled:
    """✋ Đã nắm, đang xử lý: the blocker is the actor's; the unit hears who handles it."""
    assignment, task, unit = await _open(session, actor, task_id, unit_id)
    now = clock.now()
    repo = BlockerRepository(session)
    if actor.member_id is None or not await repo.claim_take(task_id, unit_id, actor.member_id, now):
        await session.refresh(assignment)  # someone else took it, maybe a moment ago
        raise await _already(session, actor, assignment.blocker_taken_by_id, assignment, tz)
    by = await _name(session, actor.member_id, actor)
    ref = f"task:{task_id}:blocker:u{unit_id}"
    told = await _tell_unit(session, now, quiet, task, unit, "alerts.taken_notice", ref, by=by)
    return Handled(task_id, unit_id, unit.name, told)


async def _already(
    session: AsyncSession,
    actor: Actor,
    taker_id: int | None,
    assignment: TaskAssignment,
    tz: ZoneInfo,
) -> BlockerError:
    if taker_id is None:
        return BlockerError("alerts.not_blocked_any")
    if taker_id == actor.member_id:
        return BlockerError("alerts.already_yours")
    at = assignment.blocker_taken_at
    name = await _name(session, taker_id, actor)
    return BlockerError("alerts.already_taken", name=name, at=local(at, tz) if at else "")


async def may_resolve(session: AsyncSession, actor: Actor, task_id: int, unit_id: int) -> str:
    """Before asking for the resolution note: refused now rather than after typing it.
    Returns the unit's name."""
    _, _, unit = await _open(session, actor, task_id, unit_id)
    return unit.name


async def resolve(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    task_id: int,
    unit_id: int,
    note: str,
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
) -> Handled:
    """✅ Đã gỡ vướng mắc, with what was done: the unit hears it and carries on."""
    _, task, unit = await _open(session, actor, task_id, unit_id)
    text = checked_note(note, MAX_SENT)
    if not text:
        raise BlockerError("alerts.resolution_needed")
    now = clock.now()
    repo = BlockerRepository(session)
    if not await repo.claim_resolve(task_id, unit_id, actor.member_id, now, text):
        raise BlockerError("alerts.not_blocked", id=task_id, unit=unit.name)
    by = await _name(session, actor.member_id, actor)
    ref = f"task:{task_id}:blocker:u{unit_id}"
    told = await _tell_unit(
        session, now, quiet, task, unit, "alerts.resolved_notice", ref, by=by, note=text
    )
    return Handled(task_id, unit_id, unit.name, told)
