"""What members and coordinators see of tasks: open tasks, per-unit status, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.authz import Action, Actor, authorize, require
from bot.services.reports import ReportError
from storage.models import Role, Task, TaskReport, TaskState
from storage.repositories.members import MemberRepository
from storage.repositories.tasks import (
    PlanRepository,
    Rollup,
    TaskRepository,
    UnitStanding,
)
from storage.repositories.units import UnitRepository


@dataclass(frozen=True)
class TaskLine:
    """One open task of the member's unit, as ``/tasks`` lists it."""

    id: int
    title: str
    plan_code: str
    deadline: datetime
    left: timedelta  # the deadline minus now: negative once it has passed
    overdue: bool
    state: TaskState
    progress: int
    return_comment: str | None
    returned: bool = False  # sent back for more: the unit owes a new report, whatever its state


@dataclass(frozen=True)
class SubtreeLine:
    task: Task
    rollup: Rollup


@dataclass(frozen=True)
class TaskStatus:
    task: Task
    plan_code: str
    rollup: Rollup  # counted from ``standings``: a unit sent back for more is not done
    standings: list[UnitStanding]
    overdue: bool
    can_change: bool  # coordinators may return reports and close; observers only look


@dataclass(frozen=True)
class HistoryLine:
    report: TaskReport
    by: str


async def my_tasks(session: AsyncSession, actor: Actor, now: datetime) -> list[TaskLine]:
    """The open tasks of the actor's own unit, soonest deadline first."""
    require(actor, Action.VIEW_TASKS, actor.unit_path)
    lines = []
    for item in await TaskRepository(session).open_for_unit(actor.unit_id or 0):
        task, assignment = item.task, item.assignment
        state, returned = TaskState(assignment.state), assignment.returned_at is not None
        lines.append(
            TaskLine(
                id=task.id,
                title=task.title,
                plan_code=item.plan_code,
                deadline=task.deadline,
                left=task.deadline - now,
                # from the deadline itself, as the scheduler's overdue notice
                overdue=now >= task.deadline and (state is not TaskState.DONE or returned),
                state=state,
                progress=assignment.progress,
                return_comment=assignment.return_comment,
                returned=returned,
            )
        )
    return lines


def finished(standing: UnitStanding) -> bool:
    """Done, and not sent back for more since."""
    return standing.state == TaskState.DONE and not standing.returned


def counted(task_id: int, standings: list[UnitStanding]) -> Rollup:
    """How ``standings`` stand, by true state; ``done`` leaves out units sent back for more,
    which owe a new report (``returned`` counts them)."""

    def count(state: TaskState) -> int:
        return sum(1 for s in standings if s.state == state)

    return Rollup(
        task_id=task_id,
        units=len(standings),
        done=sum(1 for s in standings if finished(s)),
        in_progress=count(TaskState.IN_PROGRESS),
        blocked=count(TaskState.BLOCKED),
        not_started=count(TaskState.NOT_STARTED),
        late=sum(1 for s in standings if s.late),
        returned=sum(1 for s in standings if s.returned),
    )


async def subtree_tasks(session: AsyncSession, actor: Actor) -> list[SubtreeLine]:
    """Open tasks given to units under the actor, with how those units stand (coordinators)."""
    if actor.role is Role.OFFICER or not authorize(actor, Action.VIEW_TASKS, actor.unit_path):
        return []
    repo = TaskRepository(session)
    tasks = await repo.tasks_with_units_under(actor.unit_path)
    rollups = {r.task_id: r for r in await repo.rollups(actor.unit_path, [t.id for t in tasks])}
    return [SubtreeLine(task, rollups[task.id]) for task in tasks if task.id in rollups]


async def task_status(
    session: AsyncSession, actor: Actor, task_id: int, now: datetime
) -> TaskStatus:
    """Every unit under the actor that has this task, and how it stands."""
    require(actor, Action.VIEW_TASKS, actor.unit_path)
    repo = TaskRepository(session)
    task = await repo.get(task_id)
    rollups = await repo.rollups(actor.unit_path, [task_id]) if task else []
    if task is None or not rollups:
        raise ReportError("task.not_found", id=task_id)
    plan = await PlanRepository(session).get(task.plan_id)
    standings = await repo.standings(task_id, actor.unit_path)
    return TaskStatus(
        task=task,
        plan_code=plan.code if plan else "",
        rollup=counted(task_id, standings),
        standings=standings,
        overdue=task.deadline <= now,
        can_change=authorize(actor, Action.RETURN_REPORT, actor.unit_path).allowed,
    )


@dataclass(frozen=True)
class UnitWithTask:
    id: int
    assigned: bool  # the unit itself has the task (else: units under it do)


async def unit_with_task(
    session: AsyncSession, actor: Actor, task_id: int, code: str
) -> UnitWithTask:
    """The unit ``/task N CODE`` names, in the actor's scope, and whether it has the task."""
    found = await UnitRepository(session).get_by_code(code.strip()[:64])
    if found is None:
        raise ReportError("directive.unknown_units", codes=code[:64])
    require(actor, Action.VIEW_TASKS, found.path)
    repo = TaskRepository(session)
    if await repo.get(task_id) is None:
        raise ReportError("task.not_found", id=task_id)
    return UnitWithTask(found.id, await repo.assignment(task_id, found.id) is not None)


@dataclass(frozen=True)
class UnitHistory:
    task: Task
    unit_id: int
    unit_name: str
    lines: list[HistoryLine]
    can_return: bool


async def unit_history(
    session: AsyncSession, actor: Actor, task_id: int, unit: int | str
) -> UnitHistory:
    """A unit's reports on a task (and requests for more), oldest first; ``unit`` is its id
    or its code."""
    units = UnitRepository(session)
    found = await (units.get(unit) if isinstance(unit, int) else units.get_by_code(unit))
    if found is None:
        raise ReportError("directive.unknown_units", codes=str(unit))
    unit_id = found.id
    repo = TaskRepository(session)
    task = await repo.get(task_id)
    if task is None or await repo.assignment(task_id, unit_id) is None:
        raise ReportError("task.not_found", id=task_id)
    require(actor, Action.VIEW_TASKS, found.path)
    reports = await repo.history(task_id, unit_id)
    names = await MemberRepository(session).names_of({r.member_id for r in reports if r.member_id})
    lines = [HistoryLine(r, names.get(r.member_id or 0, "—")) for r in reports]
    can_return = task.closed_at is None and authorize(actor, Action.RETURN_REPORT, found.path)
    return UnitHistory(task, found.id, found.name, lines, bool(can_return))
