"""What the scheduler's sweeps read and stamp.

Each duty (a unit's assignment on a task, or its duty to confirm a directive) carries two
stamps: the due time of the last reminder sent and how far up the tree its silence has been
reported. Stamps move only by a conditional UPDATE (``... WHERE stamp < new``), so when two
processes sweep at once exactly one of them claims each reminder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Directive,
    DirectiveTarget,
    Plan,
    ReminderPause,
    Task,
    TaskAssignment,
    TaskState,
    Unit,
)

CHUNK = 2000  # duties handled per round trip; keeps a sweep's memory flat


@dataclass(frozen=True)
class DutyKind:
    """Where one kind of duty lives and what "still pending" means for it."""

    model: Any
    subject: Any  # the column naming the task or directive

    def pending(self) -> ColumnElement[bool]:
        if self.model is TaskAssignment:
            return TaskAssignment.state != TaskState.DONE
        return DirectiveTarget.confirmed_at.is_(None)

    def status(self) -> tuple[Any, Any, Any]:
        """State, progress and time of the last report (a directive has none of them)."""
        if self.model is TaskAssignment:
            return TaskAssignment.state, TaskAssignment.progress, TaskAssignment.reported_at
        return null(), literal(0), null()


TASK_DUTIES = DutyKind(TaskAssignment, TaskAssignment.task_id)
DIRECTIVE_DUTIES = DutyKind(DirectiveTarget, DirectiveTarget.directive_id)


@dataclass(frozen=True)
class Duty:
    """One pending unit, with what a reminder or an escalation says about it."""

    unit_id: int
    code: str
    name: str
    path: str
    depth: int
    state: str | None  # a task's state; None for a directive
    progress: int
    reported_at: datetime | None


@dataclass(frozen=True)
class OpenTask:
    task: Task
    plan_code: str
    plan_title: str
    settings: dict[str, Any]


def _not_paused(kind: DutyKind, now: datetime) -> ColumnElement[bool]:
    paused = select(ReminderPause.unit_id).where(
        ReminderPause.lifted_at.is_(None), ReminderPause.until > now
    )
    return kind.model.unit_id.not_in(paused)


class ReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_tasks(self) -> list[OpenTask]:
        rows = await self.session.execute(
            select(Task, Plan.code, Plan.title, Plan.settings)
            .join(Plan, Plan.id == Task.plan_id)
            .where(Task.closed_at.is_(None))
            .order_by(Task.deadline, Task.id)
        )
        return [OpenTask(r[0], r[1], r[2], r[3] or {}) for r in rows]

    async def live_directives(self, acked_after: datetime) -> list[Directive]:
        """Directives whose confirmation deadline is later than ``acked_after``."""
        rows = await self.session.scalars(
            select(Directive).where(Directive.ack_by > acked_after).order_by(Directive.id)
        )
        return list(rows)

    async def max_depth(self) -> int:
        return int(await self.session.scalar(select(func.max(Unit.depth))) or 0)

    def _duties(self, kind: DutyKind, subject_id: int, now: datetime) -> Select[Any]:
        return (
            select(kind.model.unit_id, Unit.code, Unit.name, Unit.path, Unit.depth, *kind.status())
            .join(Unit, Unit.id == kind.model.unit_id)
            .where(kind.subject == subject_id, kind.pending(), _not_paused(kind, now))
            .limit(CHUNK)
        )

    @staticmethod
    def _rows(rows: Sequence[Any]) -> list[Duty]:
        return [Duty(*row) for row in rows]

    async def due_for_reminder(
        self, kind: DutyKind, subject_id: int, point: datetime, now: datetime
    ) -> list[Duty]:
        """Pending, unpaused units not yet reminded for ``point`` (a chunk of them)."""
        stmt = self._duties(kind, subject_id, now).where(kind.model.last_reminder_due < point)
        return self._rows((await self.session.execute(stmt)).all())

    async def stamp_reminder(
        self, kind: DutyKind, subject_id: int, unit_ids: Sequence[int], point: datetime
    ) -> set[int]:
        """Claim the reminder for ``point``; returns the units this process claimed."""
        return await self._claim(kind, subject_id, unit_ids, "last_reminder_due", point)

    async def due_for_escalation(
        self, kind: DutyKind, subject_id: int, level: int, now: datetime
    ) -> list[Duty]:
        """Pending, unpaused units whose silence has not yet gone ``level`` levels up (or to
        the top of the tree, for units nearer to it)."""
        reach = case((Unit.depth < level, Unit.depth), else_=level)
        stmt = self._duties(kind, subject_id, now).where(
            kind.model.escalation_level < level, kind.model.escalation_level < reach
        )
        return self._rows((await self.session.execute(stmt)).all())

    async def stamp_escalation(
        self, kind: DutyKind, subject_id: int, unit_ids: Sequence[int], level: int
    ) -> set[int]:
        """Claim escalation to ``level`` for these units; returns the units this process claimed."""
        return await self._claim(kind, subject_id, unit_ids, "escalation_level", level)

    async def _claim(
        self, kind: DutyKind, subject_id: int, unit_ids: Sequence[int], stamp: str, value: Any
    ) -> set[int]:
        """Move ``stamp`` forward to ``value`` where it is still behind: the one conditional
        UPDATE that decides which process sends what."""
        column = getattr(kind.model, stamp)
        stmt = (
            update(kind.model)
            .where(
                kind.subject == subject_id,
                kind.model.unit_id.in_(list(unit_ids)),
                kind.pending(),
                column < value,
            )
            .values({stamp: value})
            .returning(kind.model.unit_id)
            .execution_options(synchronize_session=False)
        )
        return set((await self.session.scalars(stmt)).all())


class PauseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, pause: ReminderPause) -> None:
        self.session.add(pause)

    async def active_for_unit(self, unit_id: int, now: datetime) -> list[ReminderPause]:
        rows = await self.session.scalars(
            select(ReminderPause).where(
                ReminderPause.unit_id == unit_id,
                ReminderPause.lifted_at.is_(None),
                ReminderPause.until > now,
            )
        )
        return list(rows)

    async def active_in_subtree(self, path: str, now: datetime) -> list[tuple[ReminderPause, Unit]]:
        rows = await self.session.execute(
            select(ReminderPause, Unit)
            .join(Unit, Unit.id == ReminderPause.unit_id)
            .where(
                Unit.path.startswith(path, autoescape=True),
                ReminderPause.lifted_at.is_(None),
                ReminderPause.until > now,
            )
            .order_by(Unit.path)
        )
        return [(r[0], r[1]) for r in rows]
