"""Roll-ups by level: how the units below one unit stand, counted per child unit in SQL.

Every unit of a subtree is mapped to the child of the viewed unit it lies under by joining up
its parents — one fixed number of hops per depth, so each join is a primary-key lookup and the
mapping works on any database (no string arithmetic on paths, no collation surprises). The
counts are then one grouped query over the duties of the subject: the assignments of a task,
of a plan's tasks or of every open task, or the targets of a directive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from storage.models import (
    Directive,
    DirectiveTarget,
    Member,
    MemberStatus,
    Task,
    TaskAssignment,
    TaskReport,
    TaskState,
    Unit,
)
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
        """Per child of ``at``, how its units stand on the tasks (``None``: every open task).

        Counted per unit first (the subject's duties by task id; the tasks' own rows are read
        once, as lists), then summed per child: no join per duty."""
        tasks = (
            select(Task.id).where(Task.closed_at.is_(None))
            if task_ids is None
            else select(Task.id).where(Task.id.in_(list(task_ids)))
        )
        overdue = tasks.where(Task.deadline <= now)
        per_unit: Any = (
            select(
                TaskAssignment.unit_id.label("unit_id"),
                func.count().label("duties"),
                _count(finished()).label("done"),
                _count(TaskAssignment.state == TaskState.IN_PROGRESS).label("doing"),
                _count(TaskAssignment.state == TaskState.BLOCKED).label("blocked"),
                _count(TaskAssignment.state == TaskState.NOT_STARTED).label("idle"),
                _count(unfinished() & TaskAssignment.task_id.in_(overdue)).label("late"),
                _count(TaskAssignment.returned_at.is_not(None)).label("returned"),
                func.coalesce(func.sum(TaskAssignment.progress), 0).label("progress"),
            )
            .where(TaskAssignment.task_id.in_(tasks))
            .group_by(TaskAssignment.unit_id)
        )
        mapped = self.child_map(at, max_depth)
        if at.parent_id is not None:  # a part of the tree: only its units' duties are read
            per_unit = per_unit.where(TaskAssignment.unit_id.in_(select(mapped.c.unit_id)))
        per_unit = per_unit.subquery("per_unit")
        c = per_unit.c
        rows = await self.session.execute(
            select(
                mapped.c.child_id,
                func.sum(c.duties),
                func.count(),
                func.sum(c.done),
                func.sum(c.doing),
                func.sum(c.blocked),
                func.sum(c.idle),
                func.sum(c.late),
                func.sum(c.returned),
                func.sum(c.progress),
                _count(c.unit_id.not_in(self._staffed())),
            )
            .select_from(mapped)
            .join(per_unit, per_unit.c.unit_id == mapped.c.unit_id)
            .group_by(mapped.c.child_id)
        )
        return [TaskTally(*(int(v or 0) for v in row)) for row in rows]

    async def directive_tallies(
        self, at: Unit, directive_id: int, overdue: bool, max_depth: int
    ) -> list[DirectiveTally]:
        """Per child of ``at``: targets, confirmed, and late (``overdue``: the confirmation
        deadline has passed, so every unit still pending is late; before it, none is)."""
        mapped = self.child_map(at, max_depth)
        pending = DirectiveTarget.confirmed_at.is_(None)
        rows = await self.session.execute(
            select(
                mapped.c.child_id,
                func.count(),
                _count(~pending),
                _count(pending) if overdue else literal(0),
                _count(DirectiveTarget.late.is_(True)),
                _count(DirectiveTarget.unit_id.not_in(self._staffed())),
            )
            .select_from(mapped)
            .join(DirectiveTarget, DirectiveTarget.unit_id == mapped.c.unit_id)
            .where(DirectiveTarget.directive_id == directive_id)
            .group_by(mapped.c.child_id)
        )
        return [DirectiveTally(*(int(v or 0) for v in row)) for row in rows]

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

    async def directives_reaching(self, path: str, limit: int) -> list[tuple[Directive, int, int]]:
        """The latest directives with a target under ``path``, whoever sent them, with the
        targets and confirmations of that part only."""
        under = (
            select(DirectiveTarget.unit_id)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .where(
                DirectiveTarget.directive_id == Directive.id,
                Unit.path.startswith(path, autoescape=True),
            )
            .correlate(Directive)
            .exists()
        )
        ids = list(
            await self.session.scalars(
                select(Directive.id).where(under).order_by(Directive.id.desc()).limit(limit)
            )
        )
        if not ids:
            return []
        rows = await self.session.execute(
            select(Directive, func.count(), _count(DirectiveTarget.confirmed_at.is_not(None)))
            .join(DirectiveTarget, DirectiveTarget.directive_id == Directive.id)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .where(Directive.id.in_(ids), Unit.path.startswith(path, autoescape=True))
            .group_by(Directive.id)
            .order_by(Directive.id.desc())
        )
        return [(d, int(n), int(ok)) for d, n, ok in rows]

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
