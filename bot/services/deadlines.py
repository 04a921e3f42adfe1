"""Deadlines that move: one task's (``/task N`` → ✏️ Dời hạn) and, when a plan's event date
moves, every deadline given relative to it (``fieldbot plan import --update``).

The rules of a move: whoever moves a deadline manages the task (checked again when the move is
confirmed: a form's button may be stale or forged); the task is open; the new deadline lies
ahead, within the years people plan for, and differs from the old one. What a move does: the
units still working on the task hear the new time once (held in quiet hours unless it falls
before morning; an earlier move notice not sent yet is withdrawn, and a task notice still held
for the morning is rewritten instead), their reminders and escalation restart from the move,
and the audit keeps the old deadline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.i18n import DEFAULT_LANGUAGE, t
from bot.core.timefmt import local, within_bounds
from bot.services import plans
from bot.services.authz import Action, Actor, authorize, require
from bot.services.errors import ServiceError
from bot.services.notify import Copy, Notifier, Priority
from bot.services.quiet import QuietHours
from storage.models import Member, Plan, Task
from storage.repositories.audit import AuditRepository
from storage.repositories.deadlines import DeadlineRepository
from storage.repositories.members import MemberRepository
from storage.repositories.tasks import PlanRepository, TaskRepository
from storage.repositories.units import UnitRepository

TASK_MOVED = "task_deadline.moved"  # audit actions
EVENT_MOVED = "plan_event.moved"
MAX_LISTED = 30  # tasks one notice lists; the rest are counted


class DeadlineError(ServiceError):
    """A move that cannot be made; the member is told why and what to do next."""


@dataclass(frozen=True)
class MoveTarget:
    """A task whose deadline the actor may move, as the form shows it."""

    task_id: int
    title: str
    deadline: datetime
    pending: int  # units still working on it: the ones who will hear of a move


@dataclass(frozen=True)
class Proposal:
    """A new deadline, checked, waiting for the member's confirmation."""

    task_id: int
    title: str
    old: datetime
    new: datetime
    event_offset: int | None  # typed relative to the event ("event-14d"): moves with it
    pending: int


@dataclass(frozen=True)
class Moved:
    task_id: int
    old: datetime
    new: datetime
    units: int
    members: int
    held_until: datetime | None


@dataclass(frozen=True)
class Shift:
    """One task's deadline moved, and the units that must hear of it."""

    task: Task
    old: datetime
    units: list[int]


@dataclass(frozen=True)
class PastMove:
    """A move the history shows: when, by whom (empty: the command line), from and to."""

    at: datetime
    by: str
    old: datetime
    new: datetime


async def _managed(session: AsyncSession, actor: Actor, task_id: int) -> tuple[Task, Plan]:
    """The open task ``task_id`` if the actor manages it; DeadlineError or NotAllowed if not."""
    task = await TaskRepository(session).get(task_id)
    plan = await PlanRepository(session).get(task.plan_id) if task else None
    if task is None or plan is None:
        raise DeadlineError("task.not_found", id=task_id)
    scope = await UnitRepository(session).get(task.scope_unit_id)
    require(actor, Action.MOVE_DEADLINE, scope.path if scope else None)
    if task.closed_at is not None:
        raise DeadlineError("deadline.closed", id=task_id)
    return task, plan


async def can_move(session: AsyncSession, actor: Actor, task: Task) -> bool:
    """Whether the view of ``task`` offers the actor ✏️ Dời hạn."""
    if task.closed_at is not None:
        return False
    scope = await UnitRepository(session).get(task.scope_unit_id)
    return authorize(actor, Action.MOVE_DEADLINE, scope.path if scope else None).allowed


def check_new(old: datetime, new: datetime, now: datetime) -> None:
    """A new deadline ahead, within the years people plan for, and not the old one."""
    if new <= now:
        raise DeadlineError("deadline.past")
    if within_bounds(new, now) is None:
        raise DeadlineError("deadline.too_far")
    if new == old:
        raise DeadlineError("deadline.same")


async def move_target(session: AsyncSession, actor: Actor, task_id: int) -> MoveTarget:
    task, _ = await _managed(session, actor, task_id)
    pending = await DeadlineRepository(session).pending_units(task_id)
    return MoveTarget(task.id, task.title, task.deadline, len(pending))


async def propose(
    session: AsyncSession,
    actor: Actor,
    task_id: int,
    now: datetime,
    tz: ZoneInfo,
    *,
    text: str | None = None,
    later_by: timedelta | None = None,
) -> Proposal:
    """The move the member asks for: a typed time (as the task form reads deadlines: a date,
    ``36h``, ``event-14d``) or the current deadline ``later_by``."""
    task, plan = await _managed(session, actor, task_id)
    typed = text or ""
    offset = None if later_by is not None else plans.event_offset(typed)
    new = (
        task.deadline + later_by
        if later_by is not None
        else plans.parse_deadline(typed, plan.event_date, now, tz)
    )
    if new is None:
        raise DeadlineError("deadline.bad_time", value=" ".join(typed.split())[:40])
    check_new(task.deadline, new, now)
    pending = await DeadlineRepository(session).pending_units(task_id)
    return Proposal(task.id, task.title, task.deadline, new, offset, len(pending))


async def move_deadline(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    task_id: int,
    new: datetime,
    *,
    expected_old: datetime,
    event_offset: int | None,
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
) -> Moved:
    """Move the deadline as confirmed; refused if anything changed since it was proposed (the
    actor's rights, the task, its deadline)."""
    now = clock.now()
    task, plan = await _managed(session, actor, task_id)
    if task.deadline != expected_old:
        raise DeadlineError("deadline.changed_meanwhile", id=task_id)
    check_new(task.deadline, new, now)
    shift = await shift_deadline(session, now, task, new, event_offset, actor, via="chat")
    members, held = await tell_units(session, now, plan, [shift], tz, quiet)
    return Moved(task.id, shift.old, new, len(shift.units), members, held)


async def shift_deadline(
    session: AsyncSession,
    now: datetime,
    task: Task,
    new: datetime,
    event_offset: int | None,
    actor: Actor,
    *,
    via: str,
) -> Shift:
    """Write the move (the callers check the rules): the deadline, whether it now follows the
    event, the duties restarted, the old deadline in the audit. DeadlineError if the deadline
    moved meanwhile (another move of the same one won)."""
    old, repo = task.deadline, DeadlineRepository(session)
    if not await repo.set_deadline(task.id, old, new, event_offset):
        raise DeadlineError("deadline.changed_meanwhile", id=task.id)
    task.deadline, task.event_offset_minutes = new, event_offset  # as the row now says
    units = await repo.restart_duties(task.id, now)
    details = {"old": old.isoformat(), "new": new.isoformat(), "units": len(units), "via": via}
    AuditRepository(session).record(
        now, actor.member_id, actor.label, TASK_MOVED, f"task:{task.id}", details
    )
    return Shift(task, old, units)


def _delivery(now: datetime, shifts: Sequence[Shift], quiet: QuietHours | None) -> datetime | None:
    """When the notices may go: after quiet hours, unless a new deadline falls before."""
    if quiet is None or not shifts:
        return None
    release = quiet.delivery(now, min(s.task.deadline for s in shifts))
    return release if release > now else None


async def tell_units(
    session: AsyncSession,
    now: datetime,
    plan: Plan,
    shifts: Sequence[Shift],
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
    event: tuple[date, date] | None = None,
) -> tuple[int, datetime | None]:
    """One notice per member of the units concerned, naming each moved task of their unit
    (and the event's move, if given as (old, new)); returns how many and when they go."""
    repo = DeadlineRepository(session)
    by_unit: dict[int, list[Shift]] = {}
    for shift in shifts:
        for unit_id in shift.units:
            by_unit.setdefault(unit_id, []).append(shift)
    members = await MemberRepository(session).active_in_units(by_unit)
    informed = set()
    for shift in shifts:
        await repo.withdraw(f"task:{shift.task.id}:moved:")  # the latest move is the one to tell
        informed |= await _rewrite_held(repo, shift.task, plan, members, tz)
    copies = []
    for member in members:
        own = [s for s in by_unit[member.unit_id] if (member.id, s.task.id) not in informed]
        if own:
            copies.append(_notice(member, plan, own, tz, event))
    hold = _delivery(now, shifts, quiet)
    await Notifier(session, now, hold_until=hold).texts(copies, priority=Priority.BULK)
    return len(copies), hold


async def _rewrite_held(
    repo: DeadlineRepository, task: Task, plan: Plan, members: Sequence[Member], tz: ZoneInfo
) -> set[tuple[int, int]]:
    """The task's own notices still waiting in the outbox (held for the morning, or queued
    behind a broadcast) now show the new deadline, so their members need no second message.
    Returns (member id, task id) of each."""
    languages = {m.id: m.language for m in members}
    rewritten = set()
    for row in await repo.unsent(f"task:{task.id}:u"):
        if row.method != "sendMessage" or row.member_id is None:
            continue
        lang = languages.get(row.member_id, DEFAULT_LANGUAGE)
        row.payload = {**row.payload, "text": plans.task_text(lang, task, plan, tz)}
        rewritten.add((row.member_id, task.id))
    return rewritten


def _notice(
    member: Member,
    plan: Plan,
    shifts: Sequence[Shift],
    tz: ZoneInfo,
    event: tuple[date, date] | None,
) -> Copy:
    lang = member.language
    if event is None and len(shifts) == 1:
        shift = shifts[0]
        task = shift.task
        text = t(
            lang,
            "deadline.notice",
            id=task.id,
            title=task.title,
            plan=plan.code,
            new=local(task.deadline, tz),
            old=local(shift.old, tz),
        )
        ref = f"task:{task.id}:moved:u{member.unit_id}"
        return Copy(member, text, plans.report_button(lang, task.id), ref)
    lines = []
    if event is not None:
        old_day, new_day = (day.strftime("%d/%m/%Y") for day in event)
        lines.append(t(lang, "deadline.event_notice", code=plan.code, old=old_day, new=new_day))
    else:
        lines.append(t(lang, "deadline.plan_notice", code=plan.code))
    lines.append(t(lang, "deadline.notice_count", count=len(shifts)))
    ordered = sorted(shifts, key=lambda s: s.task.deadline)
    for shift in ordered[:MAX_LISTED]:
        lines.append(
            t(
                lang,
                "deadline.notice_line",
                id=shift.task.id,
                title=shift.task.title,
                new=local(shift.task.deadline, tz),
                old=local(shift.old, tz),
            )
        )
    if len(ordered) > MAX_LISTED:
        lines.append(t(lang, "compose.and_more", count=len(ordered) - MAX_LISTED))
    lines.append(t(lang, "task.imported_footer"))
    return Copy(member, "\n".join(lines), None, f"plan:{plan.id}:moved:u{member.unit_id}")


async def history(session: AsyncSession, actor: Actor, task: Task) -> list[PastMove]:
    """The task's moves, oldest first (the caller has checked the actor may see the task)."""
    require(actor, Action.VIEW_TASKS, actor.unit_path)
    events = await DeadlineRepository(session).moves(TASK_MOVED, f"task:{task.id}")
    names = await MemberRepository(session).names_of(
        {e.actor_member_id for e in events if e.actor_member_id}
    )
    moves = []
    for event in events:
        try:
            old = datetime.fromisoformat(str(event.details["old"]))
            new = datetime.fromisoformat(str(event.details["new"]))
        except (KeyError, ValueError):  # written by hand, or by an older version
            continue
        moves.append(PastMove(event.at, names.get(event.actor_member_id or 0, ""), old, new))
    return moves


# -- the event date -------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskChange:
    task_id: int
    title: str
    old: datetime
    new: datetime
    event_offset: int | None
    follows_event: bool  # moves because the event date moves


@dataclass(frozen=True)
class EventChanges:
    changed: tuple[TaskChange, ...]
    passed: tuple[TaskChange, ...]  # left as they are: their deadline had passed
    too_late: tuple[TaskChange, ...]  # left as they are: their new deadline has passed


def event_changes(
    tasks: Sequence[Task],
    rows: Mapping[str, str],
    old_event: date,
    new_event: date,
    now: datetime,
    tz: ZoneInfo,
) -> EventChanges:
    """What updating a plan does to its open ``tasks``. A task named in ``rows`` (title →
    deadline as the file gives it, checked by the caller) takes that deadline, read against
    the new event date; any other task whose deadline was given relative to the event follows
    the event. A deadline that has passed is left, and so is one whose new time has passed."""
    changed, passed, too_late = [], [], []
    moved = new_event != old_event
    for task in tasks:
        text = rows.get(" ".join(task.title.split()))
        if text is not None:
            offset = plans.event_offset(text)
            new = plans.parse_deadline(text, new_event, now, tz)
        elif task.event_offset_minutes is not None:
            offset = task.event_offset_minutes
            new = plans.from_event(new_event, offset, now, tz)
        else:
            continue
        if new is None or new == task.deadline:
            continue
        change = TaskChange(
            task.id, task.title, task.deadline, new, offset, moved and offset is not None
        )
        if task.deadline <= now:
            passed.append(change)
        elif new <= now:
            too_late.append(change)
        else:
            changed.append(change)
    return EventChanges(tuple(changed), tuple(passed), tuple(too_late))


@dataclass(frozen=True)
class EventMoved:
    moved: int  # tasks whose deadline moved
    units: int  # notices queued (one per member)
    held_until: datetime | None


async def move_event(
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    plan: Plan,
    new_event: date,
    changes: Sequence[tuple[Task, datetime, int | None]],
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
) -> EventMoved:
    """Set the plan's event date and move the given deadlines (task, new deadline, offset),
    which the caller has checked: each unit hears once of all its tasks that moved."""
    owner = await UnitRepository(session).get(plan.owner_unit_id)
    require(actor, Action.MOVE_DEADLINE, owner.path if owner else None)
    old_event = plan.event_date
    shifts = []
    for task, new, offset in changes:
        shifts.append(await shift_deadline(session, now, task, new, offset, actor, via="plan"))
    if new_event != old_event:
        plan.event_date = new_event
        AuditRepository(session).record(
            now,
            actor.member_id,
            actor.label,
            EVENT_MOVED,
            f"plan:{plan.id}",
            {"old": old_event.isoformat(), "new": new_event.isoformat(), "moved": len(shifts)},
        )
    event = (old_event, new_event) if new_event != old_event else None
    count, held = await tell_units(session, now, plan, shifts, tz, quiet, event)
    return EventMoved(len(shifts), count, held)
