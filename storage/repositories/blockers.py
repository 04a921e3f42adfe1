"""Blockers (gặp khó khăn): who took one on, whether it is resolved, and how each reached
the coordinators above (``blocker_alerts``: which outbox row carried it to whom)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    BlockerAlert,
    OutboxMessage,
    OutboxStatus,
    Task,
    TaskAssignment,
    TaskReport,
    TaskState,
    Unit,
)


def open_blocker() -> ColumnElement[bool]:
    """A unit stands blocked and nobody has resolved it yet."""
    return (TaskAssignment.state == TaskState.BLOCKED) & TaskAssignment.blocker_resolved_at.is_(
        None
    )


@dataclass(frozen=True)
class AlertItem:
    """One line of a grouped blocker message: a blocker report, or a note added to one."""

    kind: str  # "report" | "note"
    report: TaskReport
    task: Task
    unit: Unit
    taken: bool


class BlockerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def assignment(
        self, task_id: int, unit_id: int
    ) -> tuple[TaskAssignment, Task, Unit] | None:
        row = (
            await self.session.execute(
                select(TaskAssignment, Task, Unit)
                .join(Task, Task.id == TaskAssignment.task_id)
                .join(Unit, Unit.id == TaskAssignment.unit_id)
                .where(TaskAssignment.task_id == task_id, TaskAssignment.unit_id == unit_id)
            )
        ).first()
        return (row[0], row[1], row[2]) if row is not None else None

    async def claim_take(self, task_id: int, unit_id: int, member_id: int, now: datetime) -> bool:
        """Take the open blocker on, if nobody has (one conditional UPDATE: two coordinators
        tapping at once cannot both take it)."""
        result = await self.session.execute(
            update(TaskAssignment)
            .where(
                TaskAssignment.task_id == task_id,
                TaskAssignment.unit_id == unit_id,
                open_blocker(),
                TaskAssignment.blocker_taken_by_id.is_(None),
            )
            .values(blocker_taken_by_id=member_id, blocker_taken_at=now)
            .execution_options(synchronize_session="fetch")
        )
        return bool(getattr(result, "rowcount", 0))

    async def claim_resolve(
        self, task_id: int, unit_id: int, member_id: int | None, now: datetime, note: str
    ) -> bool:
        """Mark the open blocker resolved (taking it on too if nobody had); its climb up the
        tree restarts from now, should the unit stay behind."""
        assignment = TaskAssignment
        result = await self.session.execute(
            update(assignment)
            .where(
                assignment.task_id == task_id,
                assignment.unit_id == unit_id,
                open_blocker(),
            )
            .values(
                blocker_taken_by_id=func.coalesce(assignment.blocker_taken_by_id, member_id),
                blocker_taken_at=func.coalesce(
                    assignment.blocker_taken_at, literal(now, assignment.blocker_taken_at.type)
                ),
                blocker_resolved_by_id=member_id,
                blocker_resolved_at=now,
                blocker_resolution=note,
                escalate_from=now,
            )
            .execution_options(synchronize_session="fetch")
        )
        return bool(getattr(result, "rowcount", 0))

    async def taken(self, task_id: int, unit_ids: Sequence[int]) -> set[int]:
        """Which of these units' blockers on the task someone has taken and not resolved."""
        found: set[int] = set()
        ids = list(unit_ids)
        for start in range(0, len(ids), 900):
            rows = await self.session.scalars(
                select(TaskAssignment.unit_id).where(
                    TaskAssignment.task_id == task_id,
                    TaskAssignment.unit_id.in_(ids[start : start + 900]),
                    open_blocker(),
                    TaskAssignment.blocker_taken_by_id.is_not(None),
                )
            )
            found.update(rows)
        return found

    # -- how blockers reached coordinators ---------------------------------------------------
    def add_alert(self, alert: BlockerAlert) -> None:
        self.session.add(alert)

    async def latest_row(self, member_id: int) -> OutboxMessage | None:
        """The outbox row that last carried a blocker to this member (the latest due; a
        withdrawn one told nobody, so it does not count)."""
        return await self.session.scalar(
            select(OutboxMessage)
            .join(BlockerAlert, BlockerAlert.outbox_id == OutboxMessage.id)
            .where(
                BlockerAlert.member_id == member_id,
                OutboxMessage.status != OutboxStatus.CANCELLED,
            )
            .order_by(OutboxMessage.not_before.desc(), OutboxMessage.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)  # the sender may have sent it since
        )

    async def row_for(self, member_id: int, report_id: int) -> OutboxMessage | None:
        """The latest row that carried this report (or a note to it) to this member."""
        return await self.session.scalar(
            select(OutboxMessage)
            .join(BlockerAlert, BlockerAlert.outbox_id == OutboxMessage.id)
            .where(BlockerAlert.member_id == member_id, BlockerAlert.report_id == report_id)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )

    async def items(self, outbox_id: int) -> list[AlertItem]:
        """What one row carries, in the order it came."""
        rows = await self.session.execute(
            select(BlockerAlert.kind, TaskReport, Task, Unit, TaskAssignment.blocker_taken_by_id)
            .join(TaskReport, TaskReport.id == BlockerAlert.report_id)
            .join(Task, Task.id == TaskReport.task_id)
            .join(Unit, Unit.id == TaskReport.unit_id)
            .join(
                TaskAssignment,
                (TaskAssignment.task_id == TaskReport.task_id)
                & (TaskAssignment.unit_id == TaskReport.unit_id),
            )
            .where(BlockerAlert.outbox_id == outbox_id)
            .order_by(BlockerAlert.id)
        )
        return [AlertItem(r[0], r[1], r[2], r[3], r[4] is not None) for r in rows]

    async def waiting_rows(self, task_id: int) -> list[OutboxMessage]:
        """The rows not sent yet that carry a blocker of this task (or a note to one)."""
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.id.in_(
                    select(BlockerAlert.outbox_id)
                    .join(TaskReport, TaskReport.id == BlockerAlert.report_id)
                    .where(TaskReport.task_id == task_id)
                ),
            )
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
        return list(rows)

    async def withdraw_rows(self, outbox_ids: Sequence[int]) -> int:
        """Cancel these rows if they are still waiting (a row the sender has taken goes out);
        returns how many."""
        if not outbox_ids:
            return 0
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(outbox_ids)),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(status=OutboxStatus.CANCELLED, last_error="withdrawn")
            .execution_options(synchronize_session="fetch")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    @staticmethod
    def pending(row: OutboxMessage | None) -> bool:
        return row is not None and row.status == OutboxStatus.PENDING

    # -- the digest ----------------------------------------------------------------------------
    async def open_counts(self, under: ColumnElement[bool]) -> tuple[int, int]:
        """(open blockers nobody has taken, taken ones being handled) on open tasks, for the
        assignments ``under`` selects."""
        row = (
            await self.session.execute(
                select(func.count(), func.count(TaskAssignment.blocker_taken_by_id))
                .select_from(TaskAssignment)
                .join(Task, Task.id == TaskAssignment.task_id)
                .where(under, open_blocker(), Task.closed_at.is_(None))
            )
        ).one()
        total, handled = int(row[0]), int(row[1])
        return total - handled, handled
