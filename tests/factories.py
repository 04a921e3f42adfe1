"""Small factories for units and members, written straight through the repositories."""

from __future__ import annotations

import itertools

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.authz import Actor
from bot.services.members import MemberView, view_of
from bot.services.units import import_units
from storage.models import Member, MemberStatus, Role
from storage.repositories.counts import CountRepository
from storage.repositories.units import UnitRepository

TREE = """code,name,level,parent_code
BCA,Bộ Công an,ministry,
HN,Công an Hà Nội,province,BCA
HN-BD,Công an quận Ba Đình,district,HN
HN-BD-PX,Công an phường Phúc Xá,commune,HN-BD
HN-BD-TB,Công an phường Trúc Bạch,commune,HN-BD
QN,Công an Quảng Ninh,province,BCA
QN-HL,Công an TP Hạ Long,district,QN
QN-HL-BC,Công an phường Bãi Cháy,commune,QN-HL
"""

_telegram_ids = itertools.count(5_000_001)


async def make_tree(session: AsyncSession, clock: Clock, csv_text: str = TREE) -> None:
    await import_units(session, clock, Actor.system(), csv_text.encode())


async def make_member(
    session: AsyncSession,
    clock: Clock,
    unit_code: str,
    role: Role = Role.OFFICER,
    status: MemberStatus = MemberStatus.ACTIVE,
    name: str = "Cán bộ",
    language: str = "vi",
    telegram_user_id: int | None = None,
) -> MemberView:
    unit = await UnitRepository(session).get_by_code(unit_code)
    assert unit is not None, unit_code
    user_id = telegram_user_id or next(_telegram_ids)
    member = Member(
        telegram_user_id=user_id,
        chat_id=user_id,
        full_name=name,
        username=None,
        unit_id=unit.id,
        role=role,
        status=status,
        language=language,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(member)
    await session.flush()
    await session.refresh(member, ["unit"])
    if status == MemberStatus.ACTIVE:  # as a registration does
        await CountRepository(session).joined(member.unit)
    return view_of(member)
