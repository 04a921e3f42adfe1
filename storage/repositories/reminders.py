"""What the scheduler's sweeps read and stamp.

Each duty (a unit's assignment on a task, or its duty to confirm a directive) carries two
stamps: the due time of the last reminder sent and how far up the tree its silence has been
reported. Stamps move only by a conditional UPDATE (``... WHERE stamp < new``), so when two
processes sweep at once exactly one of them claims each reminder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    Directive,
    DirectiveTarget,
    Plan,
    ReminderPause,
    SweepMark,
    Task,
    TaskAssignment,
    Unit,
)
from storage.repositories.directives import most_urgent_first
from storage.repositories.tasks import unfinished

CHUNK = 2000  # duties handled per round trip; keeps a sweep's memory flat


@dataclass(frozen=True)
class DutyKind:
    """Where one kind of duty lives and what "still pending" means for it."""

    model: Any
    subject: Any  # the column naming the task or directive

    def pending(self) -> ColumnElement[bool]:
        if self.model is TaskAssignment:
            return unfinished()
        return DirectiveTarget.confirmed_at.is_(None)

    def status(self) -> tuple[Any, Any, Any, Any]:
        """State, progress, time of the last report and of a send-back (a directive has none
        of them)."""
        if self.model is TaskAssignment:
            a = TaskAssignment
            return a.state, a.progress, a.reported_at, a.returned_at
        return null(), literal(0), null(), null()


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
    returned_at: datetime | None  # the report was sent back for more: still owed
    reminded_at: datetime | None
    escalation_level: int
    escalated_at: datetime | None
    climb_from: datetime | None  # the latest restart of the climb (see ``climb_start``)


@dataclass(frozen=True)
class OpenTask:
    task: Task
    plan_code: str
    plan_title: str
    settings: dict[str, Any]
    scope_depth: int  # the issuing unit's depth: escalation stops there


def paused_units(now: datetime) -> Select[int]:
    """The units in the subtree of a unit whose reminders are paused at ``now`` (one
    uncorrelated subquery: the database works it out once per statement, not once per row)."""
    top, inside = aliased(Unit), aliased(Unit)
    return (
        select(inside.id)
        .join(top, inside.path.startswith(top.path))
        .join(ReminderPause, ReminderPause.unit_id == top.id)
        .where(ReminderPause.lifted_at.is_(None), ReminderPause.until > now)
    )


def climb_start(kind: DutyKind) -> Any:
    """When a duty's climb last restarted, if after the deadline: a pause ended, or (for a
    task) a report came back asking for more. NULL: the deadline itself."""
    if kind.model is TaskAssignment:
        returned, ended = TaskAssignment.returned_at, TaskAssignment.escalate_from
        return case((returned > ended, returned), else_=func.coalesce(ended, returned))
    return DirectiveTarget.escalate_from


@dataclass(frozen=True)
class Climb:
    """The timing of one subject's escalation at one sweep."""

    deadline: datetime
    scope_depth: int
    now: datetime
    after: timedelta
    every: timedelta

    def due(self, kind: DutyKind, depth: Any = Unit.depth) -> ColumnElement[bool]:
        """Duties that may take a step now: a fresh climb whose start lies ``after`` behind,
        or a climb under way whose last step lies ``every`` behind, below the issuer.
        ``depth``: the duty's unit depth (the joined ``Unit``'s unless told otherwise)."""
        model = kind.model
        start = climb_start(kind)
        fresh = or_(
            model.escalated_at.is_(None),
            model.escalated_at < self.deadline,
            model.escalated_at < start,
        )
        return or_(
            and_(fresh, or_(start.is_(None), start <= self.now - self.after)),
            and_(
                model.escalated_at <= self.now - self.every,
                model.escalation_level < depth - self.scope_depth,
            ),
        )


class ReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_tasks(self) -> list[OpenTask]:
        rows = await self.session.execute(
            select(Task, Plan.code, Plan.title, Plan.settings, Unit.depth)
            .join(Plan, Plan.id == Task.plan_id)
            .join(Unit, Unit.id == Task.scope_unit_id)
            .where(Task.closed_at.is_(None))
            .order_by(Task.deadline, Task.id)
        )
        return [OpenTask(r[0], r[1], r[2], r[3] or {}, r[4]) for r in rows]

    async def live_directives(self, acked_after: datetime) -> list[tuple[Directive, int]]:
        """Directives whose confirmation deadline is later than ``acked_after``, each with
        the depth of the unit that issued it; the most urgent first (a sweep's budget goes to
        them first, and a person's reminders list them first among equals)."""
        rows = await self.session.execute(
            select(Directive, Unit.depth)
            .join(Unit, Unit.id == Directive.scope_unit_id)
            .where(Directive.ack_by > acked_after)
            .order_by(most_urgent_first(), Directive.id)
        )
        return [(r[0], r[1]) for r in rows]

    async def mark_sweep(self, job: str, now: datetime) -> datetime | None:
        """Record that ``job`` runs at ``now``; returns when it ran before (None: never)."""
        mark = await self.session.get(SweepMark, job)
        if mark is None:
            self.session.add(SweepMark(job=job, at=now))
            return None
        before, mark.at = mark.at, max(mark.at, now)
        return before

    async def max_depth(self) -> int:
        return int(await self.session.scalar(select(func.max(Unit.depth))) or 0)

    def _duties(self, kind: DutyKind, subject_id: int, now: datetime) -> Select[Any]:
        model = kind.model
        return (
            select(
                model.unit_id,
                Unit.code,
                Unit.name,
                Unit.path,
                Unit.depth,
                *kind.status(),
                model.reminded_at,
                model.escalation_level,
                model.escalated_at,
                climb_start(kind),
            )
            .join(Unit, Unit.id == model.unit_id)
            .where(
                kind.subject == subject_id,
                kind.pending(),
                model.unit_id.not_in(paused_units(now)),
            )
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
        self,
        kind: DutyKind,
        subject_id: int,
        unit_ids: Sequence[int],
        point: datetime,
        now: datetime,
    ) -> set[int]:
        """Claim the reminder for ``point``; returns the units this process claimed."""
        column = kind.model.last_reminder_due
        return await self._claim(
            kind,
            subject_id,
            unit_ids,
            column < point,
            {"last_reminder_due": point, "reminded_at": now},
        )

    async def due_for_rereminder(
        self, kind: DutyKind, subject_id: int, before: datetime, now: datetime
    ) -> list[Duty]:
        """Pending, unpaused units last reminded at ``before`` or earlier (or never)."""
        stmt = self._duties(kind, subject_id, now).where(self._rereminder_due(kind, before))
        return self._rows((await self.session.execute(stmt)).all())

    async def stamp_rereminder(
        self,
        kind: DutyKind,
        subject_id: int,
        unit_ids: Sequence[int],
        before: datetime,
        now: datetime,
    ) -> set[int]:
        return await self._claim(
            kind, subject_id, unit_ids, self._rereminder_due(kind, before), {"reminded_at": now}
        )

    @staticmethod
    def _rereminder_due(kind: DutyKind, before: datetime) -> ColumnElement[bool]:
        return or_(kind.model.reminded_at.is_(None), kind.model.reminded_at <= before)

    async def due_for_escalation(
        self, kind: DutyKind, subject_id: int, climb: Climb, after_unit: int
    ) -> list[Duty]:
        """Pending, unpaused units that may take a step up the tree now, in unit order from
        ``after_unit`` (a chunk of them: the caller pages through)."""
        stmt = (
            self._duties(kind, subject_id, climb.now)
            .where(kind.model.unit_id > after_unit, climb.due(kind))
            .order_by(kind.model.unit_id)
        )
        return self._rows((await self.session.execute(stmt)).all())

    async def stamp_escalation(
        self,
        kind: DutyKind,
        subject_id: int,
        unit_ids: Sequence[int],
        climb: Climb,
        level: int,
        to_level: int,
    ) -> set[int]:
        """Claim the step from ``level`` to ``to_level`` for these units (still due, still at
        ``level``); returns the units this process claimed."""
        depth = select(Unit.depth).where(Unit.id == kind.model.unit_id).scalar_subquery()
        due = and_(climb.due(kind, depth), kind.model.escalation_level == level)
        values = {"escalation_level": to_level, "escalated_at": climb.now}
        return await self._claim(kind, subject_id, unit_ids, due, values)

    async def settle_pauses(self, now: datetime) -> int:
        """Restart the climb of every pending duty under a pause that has ended (run out or
        lifted) from the moment it ended; returns how many pauses were settled."""
        ended = func.coalesce(ReminderPause.lifted_at, ReminderPause.until)
        rows = (
            await self.session.execute(
                select(ReminderPause.id, ended, Unit.path)
                .join(Unit, Unit.id == ReminderPause.unit_id)
                .where(
                    ReminderPause.settled_at.is_(None),
                    or_(ReminderPause.lifted_at.is_not(None), ReminderPause.until <= now),
                )
            )
        ).all()
        for pause_id, end, path in rows:
            claimed = await self.session.execute(
                update(ReminderPause)
                .where(ReminderPause.id == pause_id, ReminderPause.settled_at.is_(None))
                .values(settled_at=now)
                .execution_options(synchronize_session=False)
            )
            if not getattr(claimed, "rowcount", 0):
                continue  # another process settled it
            inside = select(Unit.id).where(Unit.path.startswith(path))
            for kind in (TASK_DUTIES, DIRECTIVE_DUTIES):
                await self.session.execute(
                    update(kind.model)
                    .where(kind.model.unit_id.in_(inside), kind.pending())
                    .values(escalate_from=end)
                    .execution_options(synchronize_session=False)
                )
        return len(rows)

    async def _claim(
        self,
        kind: DutyKind,
        subject_id: int,
        unit_ids: Sequence[int],
        condition: ColumnElement[bool],
        values: dict[str, Any],
    ) -> set[int]:
        """Move the stamps where ``condition`` still holds: the one conditional UPDATE that
        decides which process sends what."""
        model = kind.model
        stmt = (
            update(model)
            .where(
                kind.subject == subject_id,
                model.unit_id.in_(list(unit_ids)),
                kind.pending(),
                condition,
            )
            .values(values)
            .returning(model.unit_id)
            .execution_options(synchronize_session=False)
        )
        return set((await self.session.scalars(stmt)).all())


class PauseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, pause: ReminderPause) -> None:
        self.session.add(pause)

    async def coverage(self, path: str, now: datetime) -> tuple[int, int]:
        """How many units a pause at ``path`` covers, and their open items at ``now``."""
        inside = Unit.path.startswith(path, autoescape=True)
        units = await self.session.scalar(select(func.count()).select_from(Unit).where(inside))
        tasks = await self.session.scalar(
            select(func.count())
            .select_from(TaskAssignment)
            .join(Unit, Unit.id == TaskAssignment.unit_id)
            .join(Task, Task.id == TaskAssignment.task_id)
            .where(inside, Task.closed_at.is_(None), TASK_DUTIES.pending())
        )
        directives = await self.session.scalar(
            select(func.count())
            .select_from(DirectiveTarget)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .join(Directive, Directive.id == DirectiveTarget.directive_id)
            .where(inside, Directive.ack_by > now, DIRECTIVE_DUTIES.pending())
        )
        return int(units or 0), int(tasks or 0) + int(directives or 0)

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
