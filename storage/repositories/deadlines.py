"""What moving a deadline reads and writes: the duties that restart, the notices not yet sent,
and the moves kept in the audit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent, OutboxMessage, OutboxStatus, Task, TaskAssignment
from storage.repositories.outbox import OutboxRepository
from storage.repositories.tasks import unfinished


class DeadlineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def pending_units(self, task_id: int) -> list[int]:
        """The units of the task that have not finished it."""
        rows = await self.session.scalars(
            select(TaskAssignment.unit_id)
            .where(TaskAssignment.task_id == task_id, unfinished())
            .order_by(TaskAssignment.unit_id)
        )
        return list(rows)

    async def set_deadline(
        self, task_id: int, old: datetime, new: datetime, event_offset: int | None
    ) -> bool:
        """Move the deadline if it is still ``old`` (a conditional UPDATE: of two moves made at
        once from the same deadline, one wins); whether this one did."""
        result = await self.session.execute(
            update(Task)
            .where(Task.id == task_id, Task.deadline == old)
            .values(deadline=new, event_offset_minutes=event_offset)
        )
        return bool(getattr(result, "rowcount", 0))

    async def restart_duties(self, task_id: int, now: datetime) -> list[int]:
        """The units still working on the task, their reminders and escalation started again
        from ``now``: no reminder point before it is sent (again), the climb up the tree
        starts from the bottom. Returns those units' ids."""
        pending = unfinished()
        units = await self.pending_units(task_id)
        stamp = TaskAssignment.last_reminder_due
        await self.session.execute(
            update(TaskAssignment)
            .where(TaskAssignment.task_id == task_id, pending)
            .values(
                last_reminder_due=case((stamp < now, now), else_=stamp),  # only forward
                escalation_level=0,
                escalated_at=None,
                escalate_from=None,
            )
            .execution_options(synchronize_session=False)
        )
        return units

    async def unsent(self, ref_prefix: str) -> list[OutboxMessage]:
        """Notices under ``ref_prefix`` still waiting in the outbox (held for the morning)."""
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.ref.startswith(ref_prefix, autoescape=True),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .order_by(OutboxMessage.id)
        )
        return list(rows)

    async def withdraw(self, ref_prefix: str) -> int:
        """Cancel the notices under ``ref_prefix`` not sent yet, held or merely queued (a
        newer notice replaces them); returns how many."""
        return await OutboxRepository(self.session).withdraw([ref_prefix])

    async def open_tasks_of_plan(self, plan_id: int) -> list[Task]:
        rows = await self.session.scalars(
            select(Task)
            .where(Task.plan_id == plan_id, Task.closed_at.is_(None))
            .order_by(Task.deadline, Task.id)
        )
        return list(rows)

    async def moves(self, action: str, subject: str) -> list[AuditEvent]:
        """The audit events ``action`` about ``subject``, oldest first."""
        rows = await self.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.subject == subject)
            .order_by(AuditEvent.id)
        )
        return list(rows)
