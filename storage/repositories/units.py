from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, MemberStatus, Unit


@dataclass(frozen=True)
class UnitLink:
    id: int
    code: str
    parent_id: int | None


def ancestor_ids(path: str) -> list[int]:
    """Ids on a materialised path, root first, the unit itself last."""
    return [int(part) for part in path.strip("/").split("/") if part]


def parent_path(path: str) -> str:
    """The path of the unit's parent (the root is its own parent)."""
    ids = ancestor_ids(path)
    return "/" + "".join(f"{i}/" for i in ids[:-1]) if len(ids) > 1 else path


class UnitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, unit_id: int) -> Unit | None:
        return await self.session.get(Unit, unit_id)

    async def get_by_code(self, code: str) -> Unit | None:
        return await self.session.scalar(select(Unit).where(Unit.code == code))

    async def get_many(self, ids: Iterable[int]) -> list[Unit]:
        rows = await self.session.scalars(select(Unit).where(Unit.id.in_(list(ids))))
        return list(rows)

    async def links(self) -> list[UnitLink]:
        """Every unit's id, code and parent: what a tree import needs to check itself."""
        rows = await self.session.execute(select(Unit.id, Unit.code, Unit.parent_id))
        return [UnitLink(r.id, r.code, r.parent_id) for r in rows]

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(Unit), list(rows))

    async def ids_by_code(self, codes: Iterable[str]) -> dict[str, int]:
        result: dict[str, int] = {}
        code_list = list(codes)
        for start in range(0, len(code_list), 900):  # stay under SQLite's bound-parameter cap
            chunk = code_list[start : start + 900]
            rows = await self.session.execute(
                select(Unit.code, Unit.id).where(Unit.code.in_(chunk))
            )
            result.update({r.code: r.id for r in rows})
        return result

    async def update_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk UPDATE by primary key; each dict carries ``id`` and the columns to set."""
        if rows:
            await self.session.execute(update(Unit), list(rows))

    async def list_all(self) -> list[Unit]:
        return list(await self.session.scalars(select(Unit).order_by(Unit.path)))

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Unit)) or 0)

    async def touch(self, unit_id: int, now: datetime) -> None:
        await self.session.execute(update(Unit).where(Unit.id == unit_id).values(updated_at=now))


class UnitQueries:
    """Which units a target names, always within a subtree."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def below(self, path: str) -> list[Unit]:
        """Every unit under ``path``, not the unit itself."""
        stmt = select(Unit).where(Unit.path.startswith(path, autoescape=True), Unit.path != path)
        return list(await self.session.scalars(stmt.order_by(Unit.path)))

    async def levels_below(self, path: str) -> list[str]:
        stmt = (
            select(Unit.level, func.min(Unit.depth))
            .where(Unit.path.startswith(path, autoescape=True), Unit.path != path)
            .group_by(Unit.level)
            .order_by(func.min(Unit.depth))
        )
        return [level for level, _ in await self.session.execute(stmt)]

    async def at_level_below(self, path: str, level: str) -> list[Unit]:
        stmt = select(Unit).where(
            Unit.path.startswith(path, autoescape=True), Unit.path != path, Unit.level == level
        )
        return list(await self.session.scalars(stmt.order_by(Unit.path)))

    async def by_codes(self, codes: Iterable[str]) -> list[Unit]:
        return await self._where_in(Unit.code, list(codes))

    async def by_ids(self, ids: Iterable[int]) -> list[Unit]:
        return await self._where_in(Unit.id, list(ids))

    async def _where_in(self, column: Any, values: list[Any]) -> list[Unit]:
        """Units whose ``column`` is in ``values``, asked in chunks under SQLite's parameter cap."""
        found: list[Unit] = []
        for start in range(0, len(values), 900):
            chunk = values[start : start + 900]
            found.extend(await self.session.scalars(select(Unit).where(column.in_(chunk))))
        return found

    async def count_active_members(self, unit_ids: Sequence[int]) -> tuple[int, int]:
        """(reachable, unreachable) active members in the given units."""
        active = unreachable = 0
        for start in range(0, len(unit_ids), 900):
            rows = await self.session.execute(
                select(Member.unreachable_since.is_(None), func.count())
                .where(
                    Member.unit_id.in_(list(unit_ids[start : start + 900])),
                    Member.status == MemberStatus.ACTIVE,
                )
                .group_by(Member.unreachable_since.is_(None))
            )
            for can_reach, count in rows:
                if can_reach:
                    active += count
                else:
                    unreachable += count
        return active, unreachable
