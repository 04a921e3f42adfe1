"""Plans (kế hoạch) and their tasks (nhiệm vụ): create, assign to units, notify them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import callbacks
from bot.core.clock import Clock
from bot.core.i18n import t
from bot.core.parsing import clean_text, has_visible, without_marks
from bot.core.timefmt import local, parse_when, within_bounds
from bot.services.authz import Action, Actor, require
from bot.services.directives import Target, resolve
from bot.services.errors import ServiceError
from bot.services.notify import Button, Copy, Notifier, Priority
from bot.services.quiet import QuietHours
from storage.models import Member, Plan, Task, Unit
from storage.repositories.members import MemberRepository
from storage.repositories.tasks import PlanRepository, TaskRepository
from storage.repositories.units import UnitRepository

MAX_CODE = 64
MAX_TITLE = 300
MAX_DESCRIPTION = 3000
DEADLINE_TIME = time(23, 59)  # a deadline given as a day means the end of that day

_RELATIVE = re.compile(
    r"^event\s*(?:(?P<sign>[+-])\s*(?P<count>\d{1,3})\s*(?P<unit>[dw]))?(?:\s+(?P<hm>\d{1,2}:\d{2}))?$",
    re.IGNORECASE,
)
# The same in Vietnamese, read without tone marks: "14 ngày trước ngày tổ chức", "17:00 2 tuần
# trước ngày tổ chức", "1 ngày sau ngày tổ chức 08:00", "ngày tổ chức".
_VI_RELATIVE = re.compile(
    r"(?:(?P<hm>[0-9]{1,2}:[0-9]{2}),? )?"
    r"(?:(?P<count>[0-9]{1,3}) ?(?P<unit>ngay|tuan) (?P<sign>truoc|sau) )?"
    r"(?:ngay )?(?:to chuc|su kien)(?:,? (?P<hm2>[0-9]{1,2}:[0-9]{2}))?"
)


class PlanError(ServiceError):
    """A plan or task request that cannot be carried out."""


@dataclass(frozen=True)
class TaskSent:
    task_id: int
    unit_count: int
    member_count: int
    held_until: datetime | None = None  # quiet hours: when the units will hear of it
    before_morning: bool = False  # written in quiet hours but due before they end: sent now


def event_offset(text: str) -> int | None:
    """Minutes from the start of the event day for a deadline typed relative to the event
    (``event-14d`` or ``14 ngày trước ngày tổ chức`` is -14 days at 23:59); None for any
    other deadline."""
    cleaned = " ".join(text.strip().split())
    if len(cleaned) > 60:
        return None
    if cleaned.isascii() and (match := _RELATIVE.fullmatch(cleaned)):
        before, hm = match["sign"] == "-", match["hm"]
    elif (match := _VI_RELATIVE.fullmatch(without_marks(cleaned))) and not (
        match["hm"] and match["hm2"]  # one time of day, before or after
    ):
        before, hm = match["sign"] == "truoc", match["hm"] or match["hm2"]
    else:
        return None
    weeks = (match["unit"] or "d").lower() in ("w", "tuan")
    days = int(match["count"] or 0) * (7 if weeks else 1)
    at = DEADLINE_TIME
    if hm:
        hour, minute = (int(part) for part in hm.split(":"))
        if hour > 23 or minute > 59:
            return None
        at = time(hour, minute)
    return (-days if before else days) * 1440 + at.hour * 60 + at.minute


def from_event(event_date: date, offset: int, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The deadline ``offset`` minutes from the start of the event day, in local time (None
    outside the years people plan for)."""
    try:
        moment = datetime.combine(event_date, time(0), tzinfo=tz) + timedelta(minutes=offset)
    except OverflowError:
        return None
    return within_bounds(moment, now)


def parse_deadline(text: str, event_date: date, now: datetime, tz: ZoneInfo) -> datetime | None:
    """``event-14d``, ``event-2w 17:00``, ``event`` (or the same in Vietnamese: ``14 ngày trước
    ngày tổ chức``), an ISO date(-time), a local date, or ``3d``/``3 ngày`` from now.

    None for anything else: digits other than ASCII, a bare number (``5``: five what?), or a
    moment outside the years people plan for (which would also overflow the date type).
    """
    cleaned = " ".join(text.strip().split())
    offset = event_offset(cleaned)
    if offset is not None:
        return from_event(event_date, offset, now, tz)
    if not cleaned.isascii() or len(cleaned) > 40:
        return parse_when(cleaned, now, tz)  # "3 ngày", "36 giờ"
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        return parse_when(cleaned, now, tz)
    if parsed.tzinfo is None:
        if len(cleaned) <= 10:  # a bare date
            parsed = datetime.combine(parsed.date(), DEADLINE_TIME)
        parsed = parsed.replace(tzinfo=tz)
    try:
        return within_bounds(parsed, now)
    except OverflowError:  # an offset pushing year 1 or 9999 past the calendar
        return None


def checked_title(title: str) -> str:
    cleaned = " ".join(clean_text(title).split())
    if not has_visible(cleaned):
        cleaned = ""
    if not cleaned:
        raise PlanError("plan.empty_title")
    if len(cleaned) > MAX_TITLE:
        raise PlanError("plan.title_too_long", max=MAX_TITLE, length=len(cleaned))
    return cleaned


def checked_code(code: str) -> str:
    cleaned = clean_text(code).strip()
    if not has_visible(cleaned):
        cleaned = ""
    if not cleaned or len(cleaned) > MAX_CODE or any(c.isspace() for c in cleaned):
        raise PlanError("plan.bad_code", max=MAX_CODE)
    return cleaned


def checked_description(text: str) -> str:
    cleaned = clean_text(text).strip()
    if not has_visible(cleaned):
        cleaned = ""
    if len(cleaned) > MAX_DESCRIPTION:
        raise PlanError("plan.description_too_long", max=MAX_DESCRIPTION, length=len(cleaned))
    return cleaned


async def create_plan(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    *,
    code: str,
    title: str,
    event_date: date,
    owner: Unit | None = None,
) -> Plan:
    """A new plan owned by ``owner`` (the actor's own unit unless given)."""
    if owner is None:
        owner = await UnitRepository(session).get(actor.unit_id or 0)
        if owner is None:
            raise PlanError("plan.owner_needed")
    require(actor, Action.CREATE_PLAN, owner.path)
    code, title = checked_code(code), checked_title(title)
    repo = PlanRepository(session)
    if await repo.get_by_code(code) is not None:
        raise PlanError("plan.code_taken", code=code)
    return await repo.add(
        Plan(
            code=code,
            title=title,
            event_date=event_date,
            owner_unit_id=owner.id,
            created_by_id=actor.member_id,
            settings={},
            created_at=clock.now(),
        )
    )


async def plans_for(session: AsyncSession, actor: Actor) -> list[Plan]:
    """The plans a coordinator may add tasks to: their unit's, their ancestors', their subtree's."""
    require(actor, Action.ASSIGN_TASK, actor.unit_path)
    return await PlanRepository(session).visible_from(actor.unit_path)


async def plan_for(session: AsyncSession, actor: Actor, plan_id: int) -> Plan:
    """A plan the actor may add tasks to (as ``plans_for`` offers them); PlanError otherwise.

    A form keeps the plan it offered; by the time the choice arrives the member may have moved,
    or the button may be forged, so the offer is checked again.
    """
    require(actor, Action.ASSIGN_TASK, actor.unit_path)
    plan = await PlanRepository(session).get(plan_id)
    owner = await UnitRepository(session).get(plan.owner_unit_id) if plan else None
    if (
        plan is None
        or owner is None
        or not (actor.unit_path.startswith(owner.path) or owner.path.startswith(actor.unit_path))
    ):
        raise PlanError("input.plan_gone")
    return plan


async def get_plan(session: AsyncSession, plan_id: int) -> Plan:
    plan = await PlanRepository(session).get(plan_id)
    if plan is None:
        raise PlanError("plan.not_found", code=str(plan_id))
    return plan


async def author_label(session: AsyncSession, actor: Actor) -> str:
    author = await MemberRepository(session).get(actor.member_id) if actor.member_id else None
    return (f"{author.full_name}, {author.unit.name}" if author else actor.label)[:200]


async def add_task(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    plan: Plan,
    *,
    title: str,
    description: str,
    deadline: datetime,
    target: Target,
    event_offset_minutes: int | None = None,
) -> tuple[Task, list[Unit]]:
    """Write a task and one assignment per unit it names; nobody is told yet.

    ``event_offset_minutes``: the deadline was given relative to the plan's event (see
    ``event_offset``), so it moves with the event date."""
    title, description = checked_title(title), checked_description(description)
    if deadline <= clock.now():
        raise PlanError("plan.deadline_past")
    units = await resolve(session, actor, target, Action.ASSIGN_TASK)
    scope_id = actor.unit_id or plan.owner_unit_id
    repo = TaskRepository(session)
    task = await repo.add(
        Task(
            plan_id=plan.id,
            title=title,
            description=description,
            deadline=deadline,
            event_offset_minutes=event_offset_minutes,
            scope_unit_id=scope_id,
            author_member_id=actor.member_id,
            author_label=await author_label(session, actor),
            created_at=clock.now(),
        )
    )
    await repo.add_assignments(task.id, [u.id for u in units])
    return task, units


def report_button(lang: str, task_id: int) -> list[list[Button]]:
    data = callbacks.encode(callbacks.TaskOpen(task_id))
    return [[Button(t(lang, "task.report_button"), data)]]


def task_text(lang: str, task: Task, plan: Plan, tz: ZoneInfo) -> str:
    """What an assigned unit's members see when a task arrives."""
    lines = [
        t(lang, "task.header", id=task.id, title=task.title),
        t(lang, "task.plan_line", code=plan.code, title=plan.title),
        t(lang, "task.deadline_line", when=local(task.deadline, tz)),
    ]
    if task.description:
        lines += ["", task.description]
    lines += ["", t(lang, "task.from_line", author=task.author_label)]
    return "\n".join(lines)


async def notify_assigned(
    session: AsyncSession,
    now: datetime,
    task: Task,
    plan: Plan,
    units: Sequence[Unit],
    tz: ZoneInfo,
    hold: datetime | None = None,
) -> int:
    """One message per member of the assigned units, with the button to report (held until
    ``hold``, if given: quiet hours)."""
    members = await MemberRepository(session).active_in_units([u.id for u in units])
    languages = {m.language for m in members}
    texts = {lang: task_text(lang, task, plan, tz) for lang in languages}
    buttons = {lang: report_button(lang, task.id) for lang in languages}
    copies = [
        Copy(m, texts[m.language], buttons[m.language], f"task:{task.id}:u{m.unit_id}")
        for m in members
    ]
    await Notifier(session, now, hold_until=hold).texts(copies, priority=Priority.BULK)
    return len(members)


async def create_task(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    plan_id: int,
    *,
    title: str,
    description: str,
    deadline: datetime,
    target: Target,
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
    event_offset_minutes: int | None = None,
) -> TaskSent:
    """Assign a new task of a plan to units in the actor's subtree and tell their members."""
    plan = await get_plan(session, plan_id)
    task, units = await add_task(
        session,
        clock,
        actor,
        plan,
        title=title,
        description=description,
        deadline=deadline,
        target=target,
        event_offset_minutes=event_offset_minutes,
    )
    # In quiet hours a task waits for the morning, unless it is due before then: it goes now.
    hold = quiet.hold(clock.now()) if quiet is not None else None
    before_morning = hold is not None and deadline <= hold
    if before_morning:
        hold = None
    count = await notify_assigned(session, clock.now(), task, plan, units, tz, hold)
    return TaskSent(task.id, len(units), count, hold, before_morning)


def _open(task_id: int) -> str:
    return callbacks.encode(callbacks.TaskOpen(task_id))


IMPORTED_BUTTONS = 6  # "📝 Báo cáo #N" for the soonest, three to a row; the rest via 📋


def _imported_buttons(lang: str, own: Sequence[Task]) -> list[list[Button]]:
    """A report button for each of the unit's soonest new tasks (as a task assigned in chat
    has), and 📋 for the whole list."""
    reports = [
        Button(
            t(lang, "remind.report_button", id=task.id),
            callbacks.encode(callbacks.TaskOpen(task.id)),
        )
        for task in own[:IMPORTED_BUTTONS]
    ]
    rows = [reports[i : i + 3] for i in range(0, len(reports), 3)]
    if len(own) > IMPORTED_BUTTONS:
        rows.append([Button(t(lang, "remind.see_all"), callbacks.encode(callbacks.ListAll()))])
    return rows


async def notify_plan_import(
    session: AsyncSession,
    now: datetime,
    plan: Plan,
    tasks: Sequence[tuple[Task, list[Unit]]],
    quiet: QuietHours | None = None,
) -> int:
    """After an import, each member hears once about all the new tasks of their unit (at
    night, held until quiet hours end)."""
    by_unit: dict[int, list[Task]] = {}
    for task, units in tasks:
        for unit in units:
            by_unit.setdefault(unit.id, []).append(task)
    members: list[Member] = await MemberRepository(session).active_in_units(by_unit)
    copies = []
    for member in members:
        own = sorted(by_unit[member.unit_id], key=lambda task: task.deadline)
        lines = [t(member.language, "task.imported_header", code=plan.code, count=len(own))]
        lines += [f"• #{task.id} {task.title}" for task in own[:30]]
        if len(own) > 30:
            lines.append(t(member.language, "compose.and_more", count=len(own) - 30))
        lines.append(t(member.language, "task.imported_footer"))
        buttons = _imported_buttons(member.language, own)
        copies.append(Copy(member, "\n".join(lines), buttons, f"plan:{plan.id}:u{member.unit_id}"))
    hold = quiet.hold(now) if quiet is not None else None
    await Notifier(session, now, hold_until=hold).texts(copies, priority=Priority.BULK)
    return len(copies)
