"""What a coordinator's daily digest reads: their subtree's reports, trouble and silence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    case,
    distinct,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Directive,
    DirectiveCount,
    Member,
    MemberStatus,
    ReportKind,
    Role,
    Task,
    TaskAssignment,
    TaskCount,
    TaskReport,
    Unit,
    Urgency,
)
from storage.repositories.blockers import BlockerRepository, open_blocker
from storage.repositories.counts import CountRepository
from storage.repositories.members import reachable, unreachable
from storage.repositories.tasks import unfinished

DIGEST_ROLES = (Role.COORDINATOR, Role.ADMIN)


def _unit_of(path: str) -> int:
    """The unit a subtree's path ends at (``/1/20/4/`` → 4)."""
    return int(path.rstrip("/").rsplit("/", 1)[-1])


URGENCY_LEVELS = (Urgency.NORMAL, Urgency.URGENT, Urgency.VERY_URGENT, Urgency.FLASH)


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
        self._whole_tree: str | None = None

    async def _under(self, column: Any, path: str) -> ColumnElement[bool]:
        """``column`` (a unit id) lies in the subtree at ``path``: the subtree's units are
        found first, then their rows through the unit-id indexes (instead of every row being
        joined to its unit and tested); the root of a one-rooted tree needs no test at all."""
        if self._whole_tree is None:
            roots = list(await self.session.scalars(select(Unit.path).where(Unit.depth == 0)))
            self._whole_tree = roots[0] if len(roots) == 1 else ""
        if path == self._whole_tree:
            return true()
        return column.in_(select(Unit.id).where(_in(path)))

    async def due_recipients(self, due: datetime, limit: int) -> list[Member]:
        """Active coordinators and admins whose digest for ``due`` has not gone out, among
        those registered (approved) before ``due``: one who joins later in the day has their
        first digest at the next digest time, not at once."""
        rows = await self.session.scalars(
            select(Member)
            .where(
                reachable(),
                Member.role.in_([str(r) for r in DIGEST_ROLES]),
                or_(Member.last_digest_due.is_(None), Member.last_digest_due < due),
                func.coalesce(Member.decided_at, Member.created_at) < due,
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
                select(func.count(), func.count(distinct(TaskReport.unit_id))).where(
                    TaskReport.received_at >= since,
                    TaskReport.received_at < until,
                    await self._under(TaskReport.unit_id, path),
                    TaskReport.kind == ReportKind.REPORT,
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
        """Units stuck (gặp khó khăn) on open tasks whose blocker nobody has resolved yet,
        those nobody has taken first; each row says whether someone has."""
        where = (
            await self._under(TaskAssignment.unit_id, path),
            open_blocker(),
            Task.closed_at.is_(None),
        )
        taken = TaskAssignment.blocker_taken_by_id.is_not(None)
        base = (
            select(Unit.name, Task.id, Task.title, taken)
            .select_from(TaskAssignment)
            .join(Unit, Unit.id == TaskAssignment.unit_id)
            .join(Task, Task.id == TaskAssignment.task_id)
            .where(*where)
        )
        count = select(func.count()).select_from(base.subquery())
        return await self._listing(base.order_by(taken, Task.deadline, Unit.path), count)

    async def blocked_counts(self, path: str) -> tuple[int, int]:
        """(open blockers nobody has taken, taken ones being handled) in the subtree."""
        under = await self._under(TaskAssignment.unit_id, path)
        return await BlockerRepository(self.session).open_counts(under)

    async def overdue(self, path: str, now: datetime) -> Listing:
        """Open tasks past their deadline, with how many units in the subtree have not
        finished (read from the subtree's counts: one row per task, whatever its size)."""
        await CountRepository(self.session).apply()  # what this transaction changed
        at = TaskCount.unit_id == _unit_of(path)
        base = (
            select(Task.id, Task.title, Task.deadline, TaskCount.unfinished)
            .join(TaskCount, TaskCount.task_id == Task.id)
            .where(at, Task.closed_at.is_(None), Task.deadline < now, TaskCount.unfinished > 0)
        )
        count = select(func.count()).select_from(base.subquery())
        return await self._listing(base.order_by(Task.deadline, Task.id), count)

    async def unconfirmed(self, path: str, since: datetime) -> Listing:
        """Directives due since ``since`` (or later) that units have not confirmed, the most
        urgent first (Hỏa tốc, Thượng khẩn, Khẩn, Thường), then by deadline; each row carries
        its độ khẩn."""
        await CountRepository(self.session).apply()
        pending = DirectiveCount.units - DirectiveCount.confirmed
        base = (
            select(Directive.id, Directive.text, Directive.ack_by, pending, Directive.urgency)
            .join(DirectiveCount, DirectiveCount.directive_id == Directive.id)
            .where(
                DirectiveCount.unit_id == _unit_of(path),
                Directive.ack_by >= since,
                pending > 0,
            )
        )
        count = select(func.count()).select_from(base.subquery())
        most_urgent_first = case(
            {str(level): rank for rank, level in enumerate(reversed(URGENCY_LEVELS))},
            value=Directive.urgency,
            else_=len(URGENCY_LEVELS),
        )
        return await self._listing(
            base.order_by(most_urgent_first, Directive.ack_by, Directive.id), count
        )

    async def unstaffed(self, path: str) -> Listing:
        """Units under ``path`` that owe an open task and have nobody registered: nobody there
        hears of it until someone is invited (coverage)."""
        owes = (
            select(TaskAssignment.unit_id)
            .join(Task, Task.id == TaskAssignment.task_id)
            .where(TaskAssignment.unit_id == Unit.id, Task.closed_at.is_(None), unfinished())
            .correlate(Unit)
            .exists()
        )
        staffed = (
            select(Member.id)
            .where(Member.unit_id == Unit.id, Member.status == MemberStatus.ACTIVE)
            .correlate(Unit)
            .exists()
        )
        where = (_in(path), owes, ~staffed)
        count = select(func.count()).select_from(Unit).where(*where)
        return await self._listing(select(Unit.name).where(*where).order_by(Unit.path), count)

    async def unreachable(self, path: str) -> Listing:
        """Active members Telegram will not deliver to (they blocked the bot)."""
        where = (_in(path), *unreachable())
        base = select(Member.full_name, Unit.name).join(Unit, Unit.id == Member.unit_id)
        count = select(func.count()).select_from(Member).join(Unit).where(*where)
        return await self._listing(base.where(*where).order_by(Unit.path, Member.id), count)
