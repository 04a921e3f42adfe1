"""What a coordinator's daily digest reads: their subtree's reports, trouble and silence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, distinct, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Directive,
    DirectiveTarget,
    Member,
    MemberStatus,
    ReportKind,
    Role,
    Task,
    TaskAssignment,
    TaskReport,
    TaskState,
    Unit,
)

DIGEST_ROLES = (Role.COORDINATOR, Role.ADMIN)


@dataclass(frozen=True)
class Listing:
    """The first rows of a section and how many there are in all."""

    rows: Sequence[Row[Any]]
    total: int


def _in(path: str) -> ColumnElement[bool]:
    return Unit.path.startswith(path, autoescape=True)


class DigestRepository:
    def __init__(self, session: AsyncSession, limit: int = 8) -> None:
        self.session = session
        self.limit = limit

    async def due_recipients(self, due: datetime, limit: int) -> list[Member]:
        """Active coordinators and admins whose digest for ``due`` has not gone out."""
        rows = await self.session.scalars(
            select(Member)
            .where(
                Member.status == MemberStatus.ACTIVE,
                Member.role.in_([str(r) for r in DIGEST_ROLES]),
                or_(Member.last_digest_due.is_(None), Member.last_digest_due < due),
            )
            .order_by(Member.id)
            .limit(limit)
        )
        return list(rows)

    async def claim(self, member_ids: Sequence[int], due: datetime) -> set[int]:
        """Stamp the digest for ``due``; returns the members this process claimed."""
        stmt = (
            update(Member)
            .where(
                Member.id.in_(list(member_ids)),
                or_(Member.last_digest_due.is_(None), Member.last_digest_due < due),
            )
            .values(last_digest_due=due)
            .returning(Member.id)
            .execution_options(synchronize_session=False)
        )
        return set((await self.session.scalars(stmt)).all())

    async def new_reports(self, path: str, since: datetime, until: datetime) -> tuple[int, int]:
        """(reports, units that reported) received in ``[since, until)``."""
        row = (
            await self.session.execute(
                select(func.count(), func.count(distinct(TaskReport.unit_id)))
                .join(Unit, Unit.id == TaskReport.unit_id)
                .where(
                    _in(path),
                    TaskReport.kind == ReportKind.REPORT,
                    TaskReport.received_at >= since,
                    TaskReport.received_at < until,
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def _listing(self, stmt: Select[*tuple[Any, ...]], count: Select[Any]) -> Listing:
        rows = (await self.session.execute(stmt.limit(self.limit))).all()
        total = len(rows)
        if total == self.limit:
            total = int(await self.session.scalar(count) or 0)
        return Listing(rows, total)

    async def blocked(self, path: str) -> Listing:
        """Units stuck (gặp khó khăn) on open tasks."""
        where = (
            _in(path),
            TaskAssignment.state == TaskState.BLOCKED,
            Task.closed_at.is_(None),
        )
        base = (
            select(Unit.name, Task.id, Task.title)
            .select_from(TaskAssignment)
            .join(Unit, Unit.id == TaskAssignment.unit_id)
            .join(Task, Task.id == TaskAssignment.task_id)
            .where(*where)
        )
        count = select(func.count()).select_from(base.subquery())
        return await self._listing(base.order_by(Task.deadline, Unit.path), count)

    async def overdue(self, path: str, now: datetime) -> Listing:
        """Open tasks past their deadline, with how many units have not finished."""
        base = (
            select(Task.id, Task.title, Task.deadline, func.count())
            .select_from(TaskAssignment)
            .join(Unit, Unit.id == TaskAssignment.unit_id)
            .join(Task, Task.id == TaskAssignment.task_id)
            .where(
                _in(path),
                Task.closed_at.is_(None),
                Task.deadline < now,
                TaskAssignment.state != TaskState.DONE,
            )
            .group_by(Task.id, Task.title, Task.deadline)
        )
        count = select(func.count()).select_from(base.subquery())
        return await self._listing(base.order_by(Task.deadline), count)

    async def unconfirmed(self, path: str, since: datetime) -> Listing:
        """Directives due since ``since`` (or later) that units have not confirmed."""
        base = (
            select(Directive.id, Directive.text, Directive.ack_by, func.count())
            .select_from(DirectiveTarget)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .join(Directive, Directive.id == DirectiveTarget.directive_id)
            .where(_in(path), Directive.ack_by >= since, DirectiveTarget.confirmed_at.is_(None))
            .group_by(Directive.id, Directive.text, Directive.ack_by)
        )
        count = select(func.count()).select_from(base.subquery())
        return await self._listing(base.order_by(Directive.ack_by), count)

    async def unreachable(self, path: str) -> Listing:
        """Members Telegram will not deliver to (they blocked the bot)."""
        where = (_in(path), Member.status == MemberStatus.UNREACHABLE)
        base = select(Member.full_name, Unit.name).join(Unit, Unit.id == Member.unit_id)
        count = select(func.count()).select_from(Member).join(Unit).where(*where)
        return await self._listing(base.where(*where).order_by(Unit.path, Member.id), count)
