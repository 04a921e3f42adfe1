"""The national trees the views are tested at: the seed articles' shape (63 provinces × 6
districts × 8 communes) and today's (34 provinces of 38–168 communes), with members written in
bulk — coordinators at the top and in half of the provinces, officers in ~85 % of communes."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.authz import Actor
from bot.services.units import import_units
from storage.models import Member, MemberStatus, Role, Unit

_ids = itertools.count(8_000_001)


@dataclass(frozen=True)
class Shape:
    provinces: int
    districts: int  # 0: two local levels, communes straight under their province
    communes: tuple[int, ...]  # per province (per district when there are districts)


SEED = Shape(63, 6, (8,) * 63)
TODAY = Shape(34, 0, tuple(38 + (p * 37) % 131 for p in range(34)))  # 38 … 168


def tree_csv(shape: Shape) -> bytes:
    rows = ["code,name,level,parent_code", "BCA,Bộ Công an,ministry,"]
    for p in range(1, shape.provinces + 1):
        province = f"T{p:02}"
        rows.append(f"{province},Công an tỉnh số {p},province,BCA")
        parents = [province]
        if shape.districts:
            parents = [f"{province}-H{d}" for d in range(1, shape.districts + 1)]
            rows += [f"{code},Công an huyện {code},district,{province}" for code in parents]
        for parent in parents:
            for c in range(1, shape.communes[p - 1] + 1):
                rows.append(f"{parent}-X{c},Công an xã {parent}-{c},commune,{parent}")
    return "\n".join(rows).encode()


async def build(
    session: AsyncSession,
    clock: Clock,
    shape: Shape,
    *,
    officers: int = 1,
    seed: int = 7,
    user: Callable[[], int] | None = None,
) -> dict[str, int]:
    """The tree and its people; returns unit ids by code. Communes left empty: ~15 %.
    ``user`` gives each person's Telegram id (an emulator's phone), else made up."""
    await import_units(session, clock, Actor.system(), tree_csv(shape))
    rng, make = random.Random(seed), user
    units = {code: (uid, level) for uid, code, level in await session.execute(
        select(Unit.id, Unit.code, Unit.level))}  # fmt: skip
    now = clock.now()
    rows = []

    def person(unit_id: int, role: Role) -> None:
        user = next(_ids) if make is None else make()
        rows.append(
            {
                "telegram_user_id": user,
                "chat_id": user,
                "full_name": f"Cán bộ {user}",
                "username": None,
                "unit_id": unit_id,
                "role": role,
                "status": MemberStatus.ACTIVE,
                "language": "vi",
                "created_at": now,
                "updated_at": now,
            }  # fmt: skip
        )

    person(units["BCA"][0], Role.COORDINATOR)
    for code, (uid, level) in sorted(units.items()):
        if level == "province" and code[1:3].isdigit() and int(code[1:3]) % 2 == 1:
            person(uid, Role.COORDINATOR)
        elif level == "commune" and code.startswith("T") and rng.random() >= 0.15:
            for _ in range(officers):
                person(uid, Role.OFFICER)
    for start in range(0, len(rows), 2000):
        await session.execute(insert(Member), rows[start : start + 2000])
    return {code: uid for code, (uid, _) in units.items()}


async def member_at(session: AsyncSession, code: str, role: Role) -> Member:
    found = await session.scalar(
        select(Member).join(Unit, Unit.id == Member.unit_id)
        .where(Unit.code == code, Member.role == role).order_by(Member.id).limit(1)
    )  # fmt: skip
    assert found is not None, (code, role)
    return found
