from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import (
    NEVER,
    Directive,
    DirectiveConfirmation,
    DirectiveTarget,
    Draft,
    Member,
    Unit,
    UnitGroup,
    UnitGroupMember,
    Urgency,
)
from storage.repositories.counts import CountRepository, target_row
from storage.repositories.members import reachable, unreachable


def most_urgent_first() -> Any:
    """An ORDER BY term: Hỏa tốc, Thượng khẩn, Khẩn, then Thường (and any unknown value)."""
    return case(
        (Directive.urgency == Urgency.FLASH.value, 0),
        (Directive.urgency == Urgency.VERY_URGENT.value, 1),
        (Directive.urgency == Urgency.URGENT.value, 2),
        else_=3,
    )


@dataclass(frozen=True)
class DirectiveCount:
    directive: Directive
    targets: int
    confirmed: int


@dataclass(frozen=True)
class TargetState:
    unit_id: int
    unit_code: str
    unit_name: str
    parent_name: str | None
    confirmed_at: datetime | None
    confirmed_by: str | None
    late: bool


class DirectiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, directive: Directive) -> Directive:
        self.session.add(directive)
        await self.session.flush()
        return directive

    async def get(self, directive_id: int) -> Directive | None:
        return await self.session.get(Directive, directive_id)

    async def add_targets(self, directive_id: int, unit_ids: Sequence[int]) -> None:
        await self.session.execute(
            insert(DirectiveTarget),
            [{"directive_id": directive_id, "unit_id": u, "late": False} for u in unit_ids],
        )
        await CountRepository(self.session).targeted(directive_id, unit_ids)

    async def get_many(self, ids: Iterable[int]) -> dict[int, Directive]:
        rows = await self.session.scalars(select(Directive).where(Directive.id.in_(list(ids))))
        return {d.id: d for d in rows}

    async def targets_for(
        self, pairs: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], DirectiveTarget]:
        """The (directive, unit) duties named, in one query per directive."""
        by_directive: dict[int, list[int]] = {}
        for directive_id, unit_id in pairs:
            by_directive.setdefault(directive_id, []).append(unit_id)
        found: dict[tuple[int, int], DirectiveTarget] = {}
        for directive_id, unit_ids in by_directive.items():
            rows = await self.session.scalars(
                select(DirectiveTarget).where(
                    DirectiveTarget.directive_id == directive_id,
                    DirectiveTarget.unit_id.in_(unit_ids),
                )
            )
            found.update({(t.directive_id, t.unit_id): t for t in rows})
        return found

    async def target(self, directive_id: int, unit_id: int) -> DirectiveTarget | None:
        return await self.session.get(DirectiveTarget, (directive_id, unit_id))

    async def confirm_target(
        self, target: DirectiveTarget, member_id: int, version: int, at: datetime, late: bool
    ) -> bool:
        """Like confirm_first, and keeps the loaded row in step without another UPDATE."""
        if not await self.confirm_first(
            target.directive_id, target.unit_id, member_id, version, at, late
        ):
            await self.session.refresh(target)
            return False
        for key, value in (
            ("confirmed_at", at),
            ("confirmed_by_id", member_id),
            ("confirmed_version", version),
            ("late", late),
        ):
            set_committed_value(target, key, value)
        return True

    async def confirm_first(
        self,
        directive_id: int,
        unit_id: int,
        member_id: int,
        version: int,
        at: datetime,
        late: bool,
    ) -> bool:
        """Record the unit's confirmation unless someone in the unit confirmed first."""
        result = await self.session.execute(
            update(DirectiveTarget)
            .where(
                DirectiveTarget.directive_id == directive_id,
                DirectiveTarget.unit_id == unit_id,
                DirectiveTarget.confirmed_at.is_(None),
            )
            .values(
                confirmed_at=at, confirmed_by_id=member_id, confirmed_version=version, late=late
            )
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return False
        CountRepository(self.session).target_changed(
            directive_id, unit_id, target_row(False, False), target_row(True, late)
        )
        return True

    def add_confirmation(self, confirmation: DirectiveConfirmation) -> None:
        self.session.add(confirmation)

    async def reset_confirmations(self, directive_id: int, unit_ids: Iterable[int]) -> None:
        """A new version: these units confirm again, and the scheduler starts over for them."""
        units = list(unit_ids)
        counts = CountRepository(self.session)
        for start in range(0, len(units), 5000):
            confirmed = await self.session.execute(
                select(DirectiveTarget.unit_id, DirectiveTarget.late).where(
                    DirectiveTarget.directive_id == directive_id,
                    DirectiveTarget.unit_id.in_(units[start : start + 5000]),
                    DirectiveTarget.confirmed_at.is_not(None),
                )
            )
            for unit_id, late in confirmed:
                counts.target_changed(
                    directive_id, unit_id, target_row(True, bool(late)), target_row(False, False)
                )
        await self.session.execute(
            update(DirectiveTarget)
            .where(
                DirectiveTarget.directive_id == directive_id,
                DirectiveTarget.unit_id.in_(units),
            )
            .values(
                confirmed_at=None,
                confirmed_by_id=None,
                confirmed_version=None,
                late=False,
                last_reminder_due=NEVER,
                escalation_level=0,
            )
        )

    async def recipients(
        self, directive_id: int, unit_ids: Iterable[int] | None = None
    ) -> list[Member]:
        """Active members of the directive's target units (or of some of them)."""
        stmt = (
            select(Member)
            .join(DirectiveTarget, DirectiveTarget.unit_id == Member.unit_id)
            .where(DirectiveTarget.directive_id == directive_id, reachable())
            .order_by(Member.unit_id, Member.id)
        )
        if unit_ids is not None:
            stmt = stmt.where(Member.unit_id.in_(list(unit_ids)))
        return list(await self.session.scalars(stmt))

    async def unreachable(self, directive_id: int) -> list[Member]:
        stmt = (
            select(Member)
            .join(DirectiveTarget, DirectiveTarget.unit_id == Member.unit_id)
            .where(
                DirectiveTarget.directive_id == directive_id,
                *unreachable(),
            )
            .order_by(Member.unit_id, Member.id)
        )
        return list(await self.session.scalars(stmt))

    async def states(self, directive_id: int) -> list[TargetState]:
        parent = aliased(Unit)
        stmt = (
            select(DirectiveTarget, Unit.code, Unit.name, parent.name, Member.full_name)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .outerjoin(parent, parent.id == Unit.parent_id)
            .outerjoin(Member, Member.id == DirectiveTarget.confirmed_by_id)
            .where(DirectiveTarget.directive_id == directive_id)
            .order_by(Unit.path)
        )
        rows = await self.session.execute(stmt)
        return [
            TargetState(t.unit_id, code, name, parent_name, t.confirmed_at, by, t.late)
            for t, code, name, parent_name, by in rows
        ]

    async def counts_in_scope(self, path_prefix: str, limit: int) -> list[DirectiveCount]:
        """The latest directives issued from a unit in the subtree, with confirmation counts."""
        confirmed = func.sum(case((DirectiveTarget.confirmed_at.is_not(None), 1), else_=0))
        stmt = (
            select(Directive, func.count(DirectiveTarget.unit_id), confirmed)
            .join(Unit, Unit.id == Directive.scope_unit_id)
            .outerjoin(DirectiveTarget, DirectiveTarget.directive_id == Directive.id)
            .where(Unit.path.startswith(path_prefix, autoescape=True))
            .group_by(Directive.id)
            .order_by(Directive.id.desc())
            .limit(limit)
        )
        rows = await self.session.execute(stmt)
        return [DirectiveCount(d, int(total), int(done or 0)) for d, total, done in rows]

    async def open_for_unit(self, unit_id: int) -> list[Directive]:
        stmt = (
            select(Directive)
            .join(
                DirectiveTarget,
                and_(
                    DirectiveTarget.directive_id == Directive.id, DirectiveTarget.unit_id == unit_id
                ),
            )
            .where(DirectiveTarget.confirmed_at.is_(None))
            .order_by(most_urgent_first(), Directive.ack_by)
        )
        return list(await self.session.scalars(stmt))


class GroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> list[UnitGroup]:
        return list(await self.session.scalars(select(UnitGroup).order_by(UnitGroup.name)))

    async def get_by_name(self, name: str) -> UnitGroup | None:
        return await self.session.scalar(select(UnitGroup).where(UnitGroup.name == name))

    async def get(self, group_id: int) -> UnitGroup | None:
        return await self.session.get(UnitGroup, group_id)

    async def unit_ids(self, group_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(UnitGroupMember.unit_id).where(UnitGroupMember.group_id == group_id)
        )
        return list(rows)

    async def replace(self, name: str, unit_ids: Sequence[int], now: datetime) -> UnitGroup:
        group = await self.get_by_name(name)
        if group is None:
            group = UnitGroup(name=name, created_at=now)
            self.session.add(group)
            await self.session.flush()
        await self.session.execute(
            delete(UnitGroupMember).where(UnitGroupMember.group_id == group.id)
        )
        if unit_ids:
            await self.session.execute(
                insert(UnitGroupMember), [{"group_id": group.id, "unit_id": u} for u in unit_ids]
            )
        return group


class DraftRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, member_id: int) -> Draft | None:
        return await self.session.get(Draft, member_id)

    async def put(self, draft: Draft) -> Draft:
        return await self.session.merge(draft)

    async def drop(self, member_id: int) -> None:
        await self.session.execute(delete(Draft).where(Draft.member_id == member_id))
