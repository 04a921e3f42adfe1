from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, MemberStatus, Role, Unit


class Recipient(NamedTuple):
    """The columns a notification needs, without loading whole members."""

    id: int
    chat_id: int
    language: str
    unit_id: int


def reachable() -> ColumnElement[bool]:
    """Members a notification can go to: approved and not known to have blocked the bot."""
    return and_(Member.status == MemberStatus.ACTIVE, Member.unreachable_since.is_(None))


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, member_id: int) -> Member | None:
        return await self.session.get(Member, member_id)

    async def get_by_telegram_id(self, telegram_user_id: int) -> Member | None:
        return await self.session.scalar(
            select(Member).where(Member.telegram_user_id == telegram_user_id)
        )

    async def by_telegram_ids(self, telegram_user_ids: Iterable[int]) -> dict[int, Member]:
        ids = list(telegram_user_ids)
        found: dict[int, Member] = {}
        for start in range(0, len(ids), 900):
            rows = await self.session.scalars(
                select(Member).where(Member.telegram_user_id.in_(ids[start : start + 900]))
            )
            found.update({m.telegram_user_id: m for m in rows})
        return found

    async def names_of(self, member_ids: Iterable[int]) -> dict[int, str]:
        ids = list(member_ids)
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Member.id, Member.full_name).where(Member.id.in_(ids))
        )
        return {r.id: r.full_name for r in rows}

    async def get_by_username(self, username: str) -> Member | None:
        return await self.session.scalar(select(Member).where(Member.username == username))

    async def languages_of(self, member_ids: Iterable[int]) -> dict[int, str]:
        rows = await self.session.execute(
            select(Member.id, Member.language).where(Member.id.in_(list(member_ids)))
        )
        return {r.id: r.language for r in rows}

    def add(self, member: Member) -> None:
        self.session.add(member)

    async def flush(self) -> None:
        await self.session.flush()

    async def active_with_roles_in_units(
        self, unit_ids: Iterable[int], roles: Iterable[Role]
    ) -> list[Member]:
        """Reachable active members holding one of ``roles`` in one of ``unit_ids``."""
        stmt = (
            select(Member)
            .where(
                Member.unit_id.in_(list(unit_ids)),
                Member.role.in_([str(r) for r in roles]),
                reachable(),
            )
            .order_by(Member.id)
        )
        return list(await self.session.scalars(stmt))

    async def active_in_units(self, unit_ids: Iterable[int]) -> list[Member]:
        """Reachable active members of the given units, unit by unit (chunked under SQLite's
        cap)."""
        ids = list(unit_ids)
        found: list[Member] = []
        for start in range(0, len(ids), 900):
            stmt = (
                select(Member)
                .where(
                    Member.unit_id.in_(ids[start : start + 900]),
                    reachable(),
                )
                .order_by(Member.unit_id, Member.id)
            )
            found.extend(await self.session.scalars(stmt))
        return found

    async def recipients_in_units(self, unit_ids: Iterable[int]) -> list[Recipient]:
        """Reachable active members of the given units, as plain rows (for sweeps)."""
        ids = list(unit_ids)
        found: list[Recipient] = []
        for start in range(0, len(ids), 900):
            rows = await self.session.execute(
                select(Member.id, Member.chat_id, Member.language, Member.unit_id)
                .where(
                    Member.unit_id.in_(ids[start : start + 900]),
                    reachable(),
                )
                .order_by(Member.unit_id, Member.id)
            )
            found.extend(Recipient(*row) for row in rows)
        return found

    async def units_with_coordinators(self) -> set[int]:
        """The units that have a reachable active coordinator (escalation tells only those)."""
        rows = await self.session.scalars(
            select(Member.unit_id).where(Member.role == Role.COORDINATOR, reachable()).distinct()
        )
        return set(rows)

    async def units_with_active_members(
        self, unit_ids: Iterable[int], *, reached: bool = True
    ) -> set[int]:
        """Which of these units someone can still be reached in (``reached=False``: someone
        is registered and approved, reachable or not)."""
        ids = list(unit_ids)
        found: set[int] = set()
        who = reachable() if reached else Member.status == MemberStatus.ACTIVE
        for start in range(0, len(ids), 900):
            rows = await self.session.scalars(
                select(Member.unit_id)
                .where(Member.unit_id.in_(ids[start : start + 900]), who)
                .distinct()
            )
            found.update(rows)
        return found

    async def active_admins(self) -> list[Member]:
        stmt = select(Member).where(Member.role == Role.ADMIN, reachable())
        return list(await self.session.scalars(stmt.order_by(Member.id)))

    async def list_in_subtree(self, path_prefix: str) -> list[Member]:
        stmt = (
            select(Member)
            .join(Member.unit)
            .where(Unit.path.startswith(path_prefix, autoescape=True))
            .order_by(Unit.path, Member.full_name)
        )
        return list(await self.session.scalars(stmt))


def unreachable() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Approved members Telegram refused to deliver to (the ones a coordinator should know of)."""
    return Member.status == MemberStatus.ACTIVE, Member.unreachable_since.is_not(None)
