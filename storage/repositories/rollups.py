"""Roll-ups by level: how the units below one unit stand, counted per child unit in SQL.

Every unit of a subtree is mapped to the child of the viewed unit it lies under by joining up
its parents — one fixed number of hops per depth, so each join is a primary-key lookup and the
mapping works on any database (no string arithmetic on paths, no collation surprises). The
counts are then one grouped query over the duties of the subject: the assignments of a task,
of a plan's tasks or of every open task, or the targets of a directive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from storage.models import (
    Directive,
    DirectiveCount,
    DirectiveTarget,
    Member,
    MemberStatus,
    Task,
    TaskAssignment,
    TaskCount,
    TaskReport,
    TaskState,
    Unit,
)
from storage.repositories.counts import CountRepository
from storage.repositories.tasks import finished, unfinished


@dataclass(frozen=True)
class Child:
    """A unit directly under the viewed one (or the viewed unit itself, for its own duties)."""

    id: int
    code: str
    name: str
    level: str
    has_children: bool  # a level below it to open


@dataclass(frozen=True)
class TaskTally:
    child_id: int
    duties: int  # unit × task pairs (one task: the units)
    units: int  # distinct units with a duty
    done: int
    in_progress: int
    blocked: int
    not_started: int
    late: int  # still owed after the deadline
    returned: int  # sent back for more
    progress: int  # the sum of the duties' progress (one duty: its own %)
    unstaffed: int  # units with a duty and no active member


@dataclass(frozen=True)
class DirectiveTally:
    child_id: int
    units: int
    confirmed: int
    late: int  # not confirmed, and the confirmation deadline has passed
    after_deadline: int  # confirmed, but after the deadline
    unstaffed: int


@dataclass(frozen=True)
class MemberActivity:
    id: int
    name: str
    role: str
    status: str
    unreachable: bool
    last_active: datetime | None  # the latest report or confirmation of theirs


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class RollupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def max_depth(self) -> int:
        return int(await self.session.scalar(select(func.max(Unit.depth))) or 0)

    async def roots(self) -> list[int]:
        return list(await self.session.scalars(select(Unit.id).where(Unit.parent_id.is_(None))))

    async def plan_task_ids(self, plan_id: int) -> list[int]:
        return list(await self.session.scalars(select(Task.id).where(Task.plan_id == plan_id)))

    async def children(self, at: Unit) -> list[Child]:
        """The units directly under ``at``, each with whether units lie under it."""
        below = aliased(Unit)
        has_children = select(below.id).where(below.parent_id == Unit.id).correlate(Unit).exists()
        rows = await self.session.execute(
            select(Unit.id, Unit.code, Unit.name, Unit.level, has_children)
            .where(Unit.parent_id == at.id)
            .order_by(Unit.path)
        )
        return [Child(*row) for row in rows]

    def child_map(self, at: Unit, max_depth: int) -> Subquery:
        """(unit_id, child_id) for every unit of ``at``'s subtree: the child of ``at`` it lies
        under, ``at`` itself mapped to itself."""
        parts: list[Any] = [
            select(literal(at.id).label("unit_id"), literal(at.id).label("child_id"))
        ]
        for hops in range(max(0, max_depth - at.depth)):
            unit = aliased(Unit)
            top = unit
            stmt = select(unit.id.label("unit_id"))
            for _ in range(hops):
                parent = aliased(Unit)
                stmt = stmt.join(parent, parent.id == top.parent_id)
                top = parent
            parts.append(
                stmt.add_columns(top.id.label("child_id")).where(
                    unit.depth == at.depth + 1 + hops, top.parent_id == at.id
                )
            )
        return union_all(*parts).subquery("child_map")

    def _staffed(self) -> Select[Any]:
        return select(Member.unit_id).where(Member.status == MemberStatus.ACTIVE)

    async def task_tallies(
        self, at: Unit, task_ids: Sequence[int] | None, now: datetime, max_depth: int
    ) -> list[TaskTally]:
        """Per child of ``at`` (and ``at`` itself, for its own duties), how its units stand on
        the tasks (``None``: every open task).

        A child's line is its subtree's counts (``task_counts``: one row per task), the late
        ones those of tasks past their deadline; how many distinct units have a duty, and how
        many of them nobody is in, is counted per unit only when several tasks are summed."""
        await CountRepository(self.session).apply()
        tasks = (
            select(Task.id).where(Task.closed_at.is_(None))
            if task_ids is None
            else select(Task.id).where(Task.id.in_(list(task_ids)))
        )
        c = TaskCount
        rows = await self.session.execute(
            select(
                c.unit_id,
                func.sum(c.duties),
                func.sum(c.duties),
                func.sum(c.done),
                func.sum(c.doing),
                func.sum(c.blocked),
                func.sum(c.idle),
                func.sum(case((Task.deadline <= now, c.unfinished), else_=0)),
                func.sum(c.returned),
                func.sum(c.progress),
                func.sum(c.unstaffed),
            )
            .join(Unit, Unit.id == c.unit_id)
            .join(Task, Task.id == c.task_id)
            .where(Unit.parent_id == at.id, c.task_id.in_(tasks), c.duties > 0)
            .group_by(c.unit_id)
        )
        found = [TaskTally(*(int(v or 0) for v in row)) for row in rows]
        own = await self._own_tally(at, tasks, now)
        if own is not None:
            found.append(own)
        if task_ids is not None and len(task_ids) == 1:
            return found  # one task: a unit has one duty, counted as one unit
        distinct = await self._distinct_units(at, tasks, max_depth)
        return [
            replace(x, units=distinct[x.child_id][0], unstaffed=distinct[x.child_id][1])
            for x in found
            if x.child_id in distinct
        ]

    async def _own_tally(self, at: Unit, tasks: Select[Any], now: datetime) -> TaskTally | None:
        """The viewed unit's own duties (not its children's)."""
        overdue = tasks.where(Task.deadline <= now)
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    _count(finished()),
                    _count(TaskAssignment.state == TaskState.IN_PROGRESS),
                    _count(TaskAssignment.state == TaskState.BLOCKED),
                    _count(TaskAssignment.state == TaskState.NOT_STARTED),
                    _count(unfinished() & TaskAssignment.task_id.in_(overdue)),
                    _count(TaskAssignment.returned_at.is_not(None)),
                    func.coalesce(func.sum(TaskAssignment.progress), 0),
                ).where(TaskAssignment.unit_id == at.id, TaskAssignment.task_id.in_(tasks))
            )
        ).one()
        duties, done, doing, blocked, idle, late, returned, progress = (int(v or 0) for v in row)
        if not duties:
            return None
        staffed = await self.session.scalar(self._staffed().where(Member.unit_id == at.id).limit(1))
        return TaskTally(
            at.id,
            duties,
            1,
            done,
            doing,
            blocked,
            idle,
            late,
            returned,
            progress,
            int(staffed is None),
        )

    async def _distinct_units(
        self, at: Unit, tasks: Select[Any], max_depth: int
    ) -> dict[int, tuple[int, int]]:
        """Per child of ``at``: the units of its subtree with a duty among ``tasks``, and how
        many of those nobody is in (one probe of the unit's duties per unit)."""
        mapped = self.child_map(at, max_depth)
        has_duty = (
            select(TaskAssignment.task_id)
            .where(TaskAssignment.unit_id == mapped.c.unit_id, TaskAssignment.task_id.in_(tasks))
            .exists()
        )
        rows = await self.session.execute(
            select(
                mapped.c.child_id,
                func.count(),
                _count(mapped.c.unit_id.not_in(self._staffed())),
            )
            .where(has_duty)
            .group_by(mapped.c.child_id)
        )
        return {child: (int(n), int(nobody)) for child, n, nobody in rows}

    async def directive_tallies(
        self, at: Unit, directive_id: int, overdue: bool, max_depth: int
    ) -> list[DirectiveTally]:
        """Per child of ``at`` (and ``at`` itself): targets, confirmed, and late (``overdue``:
        the confirmation deadline has passed, so every unit still pending is late; before it,
        none is) — a child's line is its subtree's row of ``directive_counts``."""
        await CountRepository(self.session).apply()
        c = DirectiveCount
        rows = await self.session.execute(
            select(c.unit_id, c.units, c.confirmed, c.after_deadline, c.unstaffed)
            .join(Unit, Unit.id == c.unit_id)
            .where(Unit.parent_id == at.id, c.directive_id == directive_id, c.units > 0)
        )
        found = [
            DirectiveTally(child, units, ok, units - ok if overdue else 0, after, nobody)
            for child, units, ok, after, nobody in rows
        ]
        own = await self.session.get(DirectiveTarget, (directive_id, at.id))
        if own is not None:
            staffed = await self.session.scalar(
                self._staffed().where(Member.unit_id == at.id).limit(1)
            )
            confirmed = own.confirmed_at is not None
            found.append(
                DirectiveTally(
                    at.id,
                    1,
                    int(confirmed),
                    int(overdue and not confirmed),
                    int(confirmed and own.late),
                    int(staffed is None),
                )
            )
        return found

    async def unstaffed_units(
        self, path: str, targets: Select[Any], limit: int
    ) -> tuple[int, list[tuple[str, str]]]:
        """Units under ``path`` among ``targets`` with nobody registered: how many, and the
        first ``limit`` (code, name) in tree order."""
        where = (
            Unit.path.startswith(path, autoescape=True),
            Unit.id.in_(targets),
            Unit.id.not_in(self._staffed()),
        )
        total = int(await self.session.scalar(select(func.count(Unit.id)).where(*where)) or 0)
        rows = await self.session.execute(
            select(Unit.code, Unit.name).where(*where).order_by(Unit.path).limit(limit)
        )
        return total, [(code, name) for code, name in rows]

    async def directives_reaching(
        self, unit_ids: Sequence[int], limit: int
    ) -> list[tuple[Directive, int, int]]:
        """The latest directives with a target in the subtrees of ``unit_ids``, whoever sent
        them, with the targets and confirmations of that part only."""
        await CountRepository(self.session).apply()
        c = DirectiveCount
        rows = await self.session.execute(
            select(c.directive_id, func.sum(c.units), func.sum(c.confirmed))
            .where(c.unit_id.in_(list(unit_ids)), c.units > 0)
            .group_by(c.directive_id)
            .order_by(c.directive_id.desc())
            .limit(limit)
        )
        found = [(int(d), int(n), int(ok)) for d, n, ok in rows]
        directives = {
            d.id: d
            for d in await self.session.scalars(
                select(Directive).where(Directive.id.in_([d for d, _, _ in found]))
            )
        }
        return [(directives[d], n, ok) for d, n, ok in found]

    async def members_of(self, unit_id: int) -> list[MemberActivity]:
        """A unit's members (registered, pending or not) with their latest action."""
        reported = (
            select(func.max(TaskReport.received_at))
            .where(TaskReport.member_id == Member.id)
            .correlate(Member)
            .scalar_subquery()
        )
        confirmed = (
            select(func.max(DirectiveTarget.confirmed_at))
            .where(DirectiveTarget.confirmed_by_id == Member.id)
            .correlate(Member)
            .scalar_subquery()
        )
        rows = await self.session.execute(
            select(
                Member.id,
                Member.full_name,
                Member.role,
                Member.status,
                Member.unreachable_since.is_not(None),
                reported,
                confirmed,
            )
            .where(Member.unit_id == unit_id)
            .order_by(Member.role, Member.full_name, Member.id)
        )
        found = []
        for member_id, name, role, status, unreachable, last_report, last_confirm in rows:
            moments = [m for m in (last_report, last_confirm) if m is not None]
            found.append(
                MemberActivity(
                    member_id, name, role, status, bool(unreachable), max(moments, default=None)
                )
            )
        return found
