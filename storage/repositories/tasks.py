from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, case, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    Initiative,
    Plan,
    Task,
    TaskAssignment,
    TaskReport,
    TaskState,
    Unit,
)
from storage.repositories.counts import CountRepository
from storage.repositories.units import ancestor_ids


def unfinished() -> ColumnElement[bool]:
    """A unit still owes the task: not done, or its report was sent back for more."""
    return or_(TaskAssignment.state != TaskState.DONE, TaskAssignment.returned_at.is_not(None))


def finished() -> ColumnElement[bool]:
    return ~unfinished()


@dataclass(frozen=True)
class OpenTask:
    task: Task
    plan_code: str
    assignment: TaskAssignment


@dataclass(frozen=True)
class Rollup:
    """How the units of one subtree stand on one task."""

    task_id: int
    units: int
    done: int
    in_progress: int
    blocked: int
    not_started: int
    late: int
    returned: int


@dataclass(frozen=True)
class UnitStanding:
    unit_id: int
    code: str
    name: str
    parent_name: str | None
    state: str
    progress: int
    reported_at: datetime | None
    late: bool
    returned: bool


def _in_subtree(path: str) -> ColumnElement[bool]:
    return Unit.path.startswith(path, autoescape=True)


class PlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, plan: Plan) -> Plan:
        self.session.add(plan)
        await self.session.flush()
        return plan

    async def get(self, plan_id: int) -> Plan | None:
        return await self.session.get(Plan, plan_id)

    async def get_by_code(self, code: str) -> Plan | None:
        return await self.session.scalar(select(Plan).where(Plan.code == code))

    async def visible_from(self, path: str, limit: int = 20) -> list[Plan]:
        """Plans owned by the unit at ``path``, by its ancestors, or inside its subtree."""
        ids = [str(i) for i in ancestor_ids(path)]
        ancestors = ["/" + "/".join(ids[: n + 1]) + "/" for n in range(len(ids))]
        stmt = (
            select(Plan)
            .join(Unit, Unit.id == Plan.owner_unit_id)
            .where(or_(Unit.path.in_(ancestors), _in_subtree(path)))
            .order_by(Plan.event_date.desc(), Plan.id.desc())
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, task: Task) -> Task:
        self.session.add(task)
        await self.session.flush()
        return task

    async def get(self, task_id: int) -> Task | None:
        return await self.session.get(Task, task_id)

    async def titles_in_plan(self, plan_id: int) -> set[str]:
        rows = await self.session.scalars(select(Task.title).where(Task.plan_id == plan_id))
        return set(rows)

    async def add_assignments(self, task_id: int, unit_ids: Sequence[int]) -> None:
        rows = [
            {"task_id": task_id, "unit_id": unit_id, "state": TaskState.NOT_STARTED}
            | {"progress": 0, "late": False}
            for unit_id in unit_ids
        ]
        for start in range(0, len(rows), 5000):
            await self.session.execute(insert(TaskAssignment), rows[start : start + 5000])
        await CountRepository(self.session).assigned(task_id, unit_ids)

    async def assignment(self, task_id: int, unit_id: int) -> TaskAssignment | None:
        return await self.session.get(TaskAssignment, (task_id, unit_id))

    async def open_for_unit(self, unit_id: int) -> list[OpenTask]:
        stmt = (
            select(Task, Plan.code, TaskAssignment)
            .join(TaskAssignment, TaskAssignment.task_id == Task.id)
            .join(Plan, Plan.id == Task.plan_id)
            .where(TaskAssignment.unit_id == unit_id, Task.closed_at.is_(None))
            .order_by(Task.deadline, Task.id)
        )
        return [OpenTask(task, code, a) for task, code, a in await self.session.execute(stmt)]

    def _rollup_query(self, path: str) -> Select[int, int, int, int, int, int, int, int]:
        state = TaskAssignment.state

        def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.sum(case((condition, 1), else_=0))

        return (
            select(
                TaskAssignment.task_id,
                func.count(),
                count_if(finished()),
                count_if(state == TaskState.IN_PROGRESS),
                count_if(state == TaskState.BLOCKED),
                count_if(state == TaskState.NOT_STARTED),
                count_if(TaskAssignment.late.is_(True)),
                count_if(TaskAssignment.returned_at.is_not(None)),
            )
            .join(Unit, Unit.id == TaskAssignment.unit_id)
            .where(_in_subtree(path))
            .group_by(TaskAssignment.task_id)
        )

    async def rollups(self, path: str, task_ids: Iterable[int] | None = None) -> list[Rollup]:
        """Per task, how the units under ``path`` stand (one grouped query)."""
        stmt = self._rollup_query(path)
        if task_ids is not None:
            stmt = stmt.where(TaskAssignment.task_id.in_(list(task_ids)))
        return [Rollup(*(int(v or 0) for v in row)) for row in await self.session.execute(stmt)]

    async def get_many(self, ids: Iterable[int]) -> dict[int, Task]:
        rows = await self.session.scalars(select(Task).where(Task.id.in_(list(ids))))
        return {t.id: t for t in rows}

    async def standings(self, task_id: int, path: str) -> list[UnitStanding]:
        parent = aliased(Unit)
        stmt = (
            select(
                Unit.id,
                Unit.code,
                Unit.name,
                parent.name,
                TaskAssignment.state,
                TaskAssignment.progress,
                TaskAssignment.reported_at,
                TaskAssignment.late,
                TaskAssignment.returned_at.is_not(None),
            )
            .join(Unit, Unit.id == TaskAssignment.unit_id)
            .outerjoin(parent, parent.id == Unit.parent_id)
            .where(TaskAssignment.task_id == task_id, _in_subtree(path))
            .order_by(Unit.path)
        )
        return [UnitStanding(*row) for row in await self.session.execute(stmt)]

    async def add_report(self, report: TaskReport) -> TaskReport:
        self.session.add(report)
        await self.session.flush()
        return report

    async def get_report(self, report_id: int) -> TaskReport | None:
        return await self.session.get(TaskReport, report_id)

    async def history(self, task_id: int, unit_id: int, limit: int = 20) -> list[TaskReport]:
        stmt = (
            select(TaskReport)
            .where(TaskReport.task_id == task_id, TaskReport.unit_id == unit_id)
            .order_by(TaskReport.id.desc())
            .limit(limit)
        )
        return list(reversed(list(await self.session.scalars(stmt))))

    async def tasks_with_units_under(self, path: str, limit: int = 30) -> list[Task]:
        """Open tasks assigned to at least one unit under ``path``, soonest deadline first."""
        has_unit = (
            select(TaskAssignment.task_id)
            .join(Unit, Unit.id == TaskAssignment.unit_id)
            .where(_in_subtree(path))
        )
        stmt = (
            select(Task)
            .where(Task.closed_at.is_(None), Task.id.in_(has_unit))
            .order_by(Task.deadline, Task.id)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))


class InitiativeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, initiative: Initiative) -> Initiative:
        self.session.add(initiative)
        await self.session.flush()
        return initiative

    async def get(self, initiative_id: int) -> Initiative | None:
        return await self.session.get(Initiative, initiative_id)

    async def recent_under(self, path: str, limit: int = 10) -> list[tuple[Initiative, str]]:
        stmt = (
            select(Initiative, Unit.name)
            .join(Unit, Unit.id == Initiative.unit_id)
            .where(_in_subtree(path))
            .order_by(Initiative.id.desc())
            .limit(limit)
        )
        return [(i, name) for i, name in await self.session.execute(stmt)]
