"""Status reports from the field: three taps, an optional note or file, blockers travel up.

A unit's status on a task is its latest report; every report (and every request for more
from a coordinator) is kept in ``task_reports`` with who and when. A report sent back for more
keeps its state (a done report stays "Hoàn thành", marked ``returned_at``): the unit owes a new
report, but nobody pretends it went back to work. Progress that goes down needs a reason, which
the coordinators above hear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import callbacks
from bot.core.clock import Clock
from bot.core.i18n import t
from bot.core.parsing import has_visible
from bot.core.timefmt import local
from bot.services import blockers
from bot.services.authz import Action, Actor, require
from bot.services.errors import ServiceError
from bot.services.members import coordinators_over
from bot.services.notes import MAX_NOTE, MAX_SENT, checked_note, passage
from bot.services.notify import Button, Notifier, Priority
from bot.services.plans import report_button
from bot.services.quiet import QuietHours
from storage.models import Member, ReportKind, Task, TaskAssignment, TaskReport, TaskState, Unit
from storage.repositories.counts import CountRepository, duty_row
from storage.repositories.members import MemberRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.tasks import PlanRepository, TaskRepository
from storage.repositories.units import UnitRepository, parent_path

MAX_ATTACHMENTS = 10
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # the most the Bot API lets a bot download (getFile)
DOCUMENT_TYPES = frozenset(
    {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "txt", "jpg", "jpeg"}
    | {"png", "heic", "webp", "mp4", "mov", "zip", "rar"}
)
FIXED_PROGRESS = {TaskState.NOT_STARTED: 0, TaskState.DONE: 100}


class ReportError(ServiceError):
    """A report that cannot be taken; the member is told why and what to do next."""


class ReasonNeeded(ReportError):
    """Progress would go down (75% → 25%) and no reason came with it: ask for one."""

    def __init__(self, task_id: int, state: TaskState, old: int, new: int) -> None:
        super().__init__("report.reason_ask", old=old, new=new, state=state.value)
        self.task_id, self.state, self.old, self.new = task_id, state, old, new


@dataclass(frozen=True)
class Attachment:
    kind: str  # "photo" | "document"
    file_id: str
    file_name: str | None = None

    def as_row(self) -> dict[str, Any]:
        return {"kind": self.kind, "file_id": self.file_id, "file_name": self.file_name}


@dataclass(frozen=True)
class Reported:
    report_id: int
    task_id: int
    unit_name: str
    state: TaskState
    progress: int
    late: bool
    escalated_to: int
    regressed_to: int = 0  # coordinators told that progress went down


@dataclass(frozen=True)
class TaskCard:
    """A task as the reporting unit sees it."""

    task: Task
    assignment: TaskAssignment
    plan_code: str


def check_attachment(kind: str, size: int | None, file_name: str | None) -> None:
    """Photos up to 10 MB; documents up to 20 MB, of the kinds offices exchange."""
    if kind == "photo":
        if size is not None and size > MAX_PHOTO_BYTES:
            raise ReportError("report.photo_too_large", mb=MAX_PHOTO_BYTES // 2**20)
        return
    extension = (file_name or "").rsplit(".", 1)[-1].lower() if "." in (file_name or "") else ""
    if extension not in DOCUMENT_TYPES:
        raise ReportError("report.wrong_file_type", name=file_name or "?")
    if size is not None and size > MAX_DOCUMENT_BYTES:
        raise ReportError("report.file_too_large", mb=MAX_DOCUMENT_BYTES // 2**20)


def checked_progress(state: TaskState, progress: int | None) -> int:
    if state in FIXED_PROGRESS:
        return FIXED_PROGRESS[state]
    if progress is None or not 0 <= progress <= 100:
        raise ReportError("report.bad_progress")
    return progress


async def task_card(session: AsyncSession, actor: Actor, task_id: int) -> TaskCard:
    """The task the actor's unit is about to report on; refused if it cannot take a report."""
    require(actor, Action.REPORT_TASK, actor.unit_path)
    repo = TaskRepository(session)
    task = await repo.get(task_id)
    assignment = await repo.assignment(task_id, actor.unit_id or 0)
    if task is None or assignment is None:
        raise ReportError("report.not_assigned", id=task_id)
    if task.closed_at is not None:
        raise ReportError("report.closed", id=task_id)
    plan = await PlanRepository(session).get(task.plan_id)
    return TaskCard(task, assignment, plan.code if plan else "")


def standing(lang: str, state: str, progress: int, *, returned: bool = False) -> str:
    """A unit's state as it truly is: ``Hoàn thành, 100%``; after a coordinator sent the
    report back, ``Hoàn thành, 100% — đã được yêu cầu bổ sung`` (it owes a new report)."""
    key = "report.standing_returned" if returned else "report.standing"
    return t(lang, key, state=t(lang, f"report.state_{state}"), progress=progress)


def goes_back(assignment: TaskAssignment, progress: int) -> bool:
    """Whether a report of ``progress`` takes the unit's progress down."""
    return assignment.reported_at is not None and progress < assignment.progress


async def submit_report(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    task_id: int,
    state: TaskState,
    progress: int | None,
    tz: ZoneInfo,
    *,
    note: str = "",
    attachments: Sequence[Attachment] = (),
    member_time: datetime | None = None,
    quiet: QuietHours | None = None,
    default_progress: int | None = None,
) -> Reported:
    """Record a report; the unit's status becomes this one. A blocker goes up at once.

    ``member_time`` is when the member wrote it (their message's date): a report that waited
    for coverage keeps that time, and is late if that is past the deadline. Progress that goes
    down needs a ``note`` saying why (``ReasonNeeded`` otherwise); the coordinators above are
    told, after quiet hours if it is night. A blocker's own alert says it already.

    ``progress`` None for a state that has one (a typed ``/report 12 đang``) keeps the unit's
    progress, or is ``default_progress`` if it never reported.
    """
    card = await task_card(session, actor, task_id)
    if progress is None and state not in FIXED_PROGRESS:
        reported = card.assignment.reported_at is not None
        progress = card.assignment.progress if reported else default_progress
    progress = checked_progress(state, progress)
    note = checked_note(note)
    previous = card.assignment.progress
    regressed = goes_back(card.assignment, progress)
    if regressed and not note:
        raise ReasonNeeded(task_id, state, previous, progress)
    now = clock.now()
    at = min(member_time, now) if member_time is not None else now
    late = at > card.task.deadline
    report = await TaskRepository(session).add_report(
        TaskReport(
            task_id=task_id,
            unit_id=card.assignment.unit_id,
            member_id=actor.member_id,
            kind=ReportKind.REPORT,
            state=state,
            progress=progress,
            note=note,
            attachments=[a.as_row() for a in attachments],
            reported_at=at,
            received_at=now,
            late=late,
        )
    )
    assignment = card.assignment
    before = counted(assignment)
    assignment.escalate_from = climb_restart(assignment, state, now)
    assignment.state, assignment.progress = state, progress
    assignment.reported_at, assignment.reported_by_id, assignment.late = at, actor.member_id, late
    assignment.returned_at = assignment.return_comment = None
    CountRepository(session).duty_changed(task_id, assignment.unit_id, before, counted(assignment))
    unit = await UnitRepository(session).get(assignment.unit_id)
    assert unit is not None  # noqa: S101 - an assignment's unit exists (foreign key)
    escalated = told = 0
    if state is TaskState.BLOCKED:  # a new blocker: nobody holds it yet
        assignment.blocker_taken_by_id = assignment.blocker_resolved_by_id = None
        assignment.blocker_taken_at = assignment.blocker_resolved_at = None
        assignment.blocker_resolution = None
        await session.flush()
        escalated = len(await blockers.alert(session, now, card.task, unit, report, tz))
    elif regressed:
        hold = quiet.hold(now) if quiet is not None else None
        told = await _regressed(session, now, hold, card.task, unit, report, previous, tz)
    return Reported(report.id, task_id, unit.name, state, progress, late, escalated, told)


async def add_to_report(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    report_id: int,
    tz: ZoneInfo,
    *,
    note: str = "",
    attachment: Attachment | None = None,
) -> int:
    """Add a note or a file to the unit's latest report; a blocker's additions go up too.

    Returns how many coordinators were sent the addition.
    """
    repo = TaskRepository(session)
    report = await repo.get_report(report_id)
    if report is None or report.unit_id != actor.unit_id:
        raise ReportError("report.nothing_open")
    card = await task_card(session, actor, report.task_id)
    latest = await repo.history(report.task_id, report.unit_id, 1)
    if not latest or latest[0].id != report.id:
        raise ReportError("report.superseded")
    if note:
        added = checked_note(note)
        combined = f"{report.note}\n{added}".strip() if report.note else added
        if len(combined) > MAX_NOTE:
            raise ReportError("report.note_too_long", max=MAX_NOTE, length=len(combined))
        report.note = combined
    if attachment is not None:
        if len(report.attachments) >= MAX_ATTACHMENTS:
            raise ReportError("report.too_many_files", max=MAX_ATTACHMENTS)
        report.attachments = [*report.attachments, attachment.as_row()]
    if report.state != TaskState.BLOCKED:
        return 0
    unit = await UnitRepository(session).get(report.unit_id)
    assert unit is not None  # noqa: S101 - foreign key
    now = clock.now()
    if attachment is None:  # grouped with what still waits for the coordinators, if anything
        if not has_visible(note):
            return 0
        return await blockers.note_added(session, now, card.task, unit, report, note, tz)
    coordinators = await coordinators_over(MemberRepository(session), parent_path(unit.path))
    notifier = Notifier(session, now)
    for member in coordinators:  # the note, if any, rides as the file's caption
        caption = t(member.language, "report.blocked_file", id=card.task.id, unit=unit.name)
        _forward(notifier, member, attachment, f"{caption}\n{note}".strip())
    return len(coordinators)


def _forward(notifier: Notifier, member: Member, attachment: Attachment, caption: str) -> None:
    method = "sendPhoto" if attachment.kind == "photo" else "sendDocument"
    notifier.file(member, method, attachment.file_id, caption=caption, priority=Priority.URGENT)


def unit_buttons(lang: str, task_id: int, unit_id: int) -> list[list[Button]]:
    def verb(name: str) -> str:
        return callbacks.encode(callbacks.UnitAction(task_id, unit_id, name))

    return [
        [
            Button(t(lang, "task.return_button"), verb("return")),
            Button(t(lang, "task.history_button"), verb("history")),
        ]
    ]


async def _regressed(
    session: AsyncSession,
    now: datetime,
    hold: datetime | None,
    task: Task,
    unit: Unit,
    report: TaskReport,
    previous: int,
    tz: ZoneInfo,
) -> int:
    """The coordinators above hear that progress went down, and why (not urgent)."""
    coordinators = await coordinators_over(MemberRepository(session), parent_path(unit.path))
    notifier = Notifier(session, now, hold_until=hold)
    for member in coordinators:
        lang = member.language
        notifier.message(
            member,
            "report.regressed_alert",
            id=task.id,
            title=task.title,
            unit=unit.name,
            code=unit.code,
            old=previous,
            new=report.progress,
            state=t(lang, f"report.state_{report.state}"),
            at=local(report.reported_at, tz),
            reason=passage(lang, report.note, task.id, unit.code),
            keyboard=unit_buttons(lang, task.id, unit.id),
            ref=f"task:{task.id}:regressed:u{unit.id}",
        )
    return len(coordinators)


async def return_report(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    task_id: int,
    unit_id: int,
    comment: str,
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
) -> str:
    """Send a unit's report back asking for more (yêu cầu bổ sung); returns the unit's name.

    The unit keeps its state ("Hoàn thành" stays so, marked ``returned_at``) and owes a new
    report; its members hear of it after quiet hours if it is night.
    """
    repo = TaskRepository(session)
    task, unit = await repo.get(task_id), await UnitRepository(session).get(unit_id)
    assignment = await repo.assignment(task_id, unit_id)
    if task is None or unit is None or assignment is None:
        raise ReportError("report.not_assigned", id=task_id)
    require(actor, Action.RETURN_REPORT, unit.path)
    if task.closed_at is not None:
        raise ReportError("report.closed", id=task_id)
    comment = checked_note(comment, MAX_SENT)
    if not comment:
        raise ReportError("report.comment_needed")
    now = clock.now()
    before = counted(assignment)
    assignment.returned_at, assignment.return_comment = now, comment
    CountRepository(session).duty_changed(task_id, unit_id, before, counted(assignment))
    await repo.add_report(
        TaskReport(
            task_id=task_id,
            unit_id=unit_id,
            member_id=actor.member_id,
            kind=ReportKind.RETURN,
            state=assignment.state,
            progress=assignment.progress,
            note=comment,
            attachments=[],
            reported_at=now,
            received_at=now,
            late=False,
        )
    )
    author = await MemberRepository(session).get(actor.member_id) if actor.member_id else None
    notifier = Notifier(session, now, hold_until=quiet.hold(now) if quiet is not None else None)
    for member in await MemberRepository(session).active_in_units([unit_id]):
        notifier.message(
            member,
            "report.returned_notice",
            id=task.id,
            title=task.title,
            by=author.full_name if author else actor.label,
            comment=comment,
            when=local(task.deadline, tz),
            keyboard=report_button(member.language, task.id),
            ref=f"task:{task.id}:returned:u{unit_id}",
        )
    return unit.name


def counted(assignment: TaskAssignment) -> tuple[int, ...]:
    """What the assignment adds to the counts above it (``storage/repositories/counts.py``)."""
    return duty_row(assignment.state, assignment.progress, assignment.returned_at is not None)


def climb_restart(assignment: TaskAssignment, state: TaskState, now: datetime) -> datetime | None:
    """Where the unit's climb up the tree counts from after this report: a blocker resolved
    starts it again now; a send-back answered keeps its moment (the mark itself is cleared)."""
    marks = [m for m in (assignment.escalate_from, assignment.returned_at) if m is not None]
    if assignment.state == TaskState.BLOCKED and state is not TaskState.BLOCKED:
        marks.append(now)
    return max(marks, default=None)


async def close_task(
    session: AsyncSession, clock: Clock, actor: Actor, task_id: int, tz: ZoneInfo | None = None
) -> Task:
    """Close the task. What waits in the outbox about it no longer stands and is withdrawn;
    a grouped blocker message that also carries other tasks is written afresh in ``tz``."""
    task = await TaskRepository(session).get(task_id)
    if task is None:
        raise ReportError("task.not_found", id=task_id)
    scope = await UnitRepository(session).get(task.scope_unit_id)
    require(actor, Action.CLOSE_TASK, scope.path if scope else None)
    if task.closed_at is not None:
        raise ReportError("report.closed", id=task_id)
    task.closed_at, task.closed_by_id = clock.now(), actor.member_id
    # What was held for the morning about it (its notice, a send-back, a reminder) no longer
    # stands: withdrawn, so nobody gets a button that answers "closed".
    await OutboxRepository(session).withdraw(
        [f"task:{task_id}:", f"remind:task:{task_id}"], held_past=clock.now()
    )
    await session.flush()
    await blockers.task_closed(session, task_id, tz)
    return task
