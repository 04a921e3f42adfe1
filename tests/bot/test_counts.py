"""The counts per subtree that the roll-ups read follow every change made through the services:
reports and send-backs, a unit's first member, and a tree import that moves units under other
parents. Each test compares a page with the duties counted from scratch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.config import OnboardingConfig
from bot.services import onboarding, reports
from bot.services.authz import Actor
from bot.services.members import view_of
from bot.services.rollups import Page, Rollups
from bot.services.units import import_units
from storage.models import Member, MemberStatus, Role, TaskState, Unit
from storage.repositories.counts import CountRepository
from tests import national
from tests.bot.test_reminders import TZ
from tests.bot.test_rollups import _national_task

SMALL = national.Shape(3, 2, (3, 3, 3))  # 3 provinces × 2 districts × 3 communes


@pytest.fixture
async def seed(session: AsyncSession, clock: ManualClock) -> dict[str, int]:
    return await national.build(session, clock, SMALL, seed=11)


async def _officer_of(session: AsyncSession, code: str) -> Member | None:
    return await session.scalar(
        select(Member)
        .join(Unit, Unit.id == Member.unit_id)
        .where(Unit.code == code, Member.role == Role.OFFICER, Member.status == "active")
        .limit(1)
    )


async def _staffed_commune(session: AsyncSession, under: str) -> tuple[str, Member]:
    codes = await session.scalars(
        select(Unit.code).where(Unit.code.startswith(f"{under}-"), Unit.level == "commune")
    )
    for code in sorted(codes):
        officer = await _officer_of(session, code)
        if officer is not None:
            return code, officer
    raise AssertionError(f"nobody registered under {under}")


async def _committee_page(session: AsyncSession, clock: ManualClock, task_id: int) -> Page:
    top = view_of(await national.member_at(session, "BCA", Role.COORDINATOR))
    return await Rollups(session, top.actor, clock.now()).page("t", task_id, None, 0)


async def _assert_exact(session: AsyncSession) -> None:
    counts = CountRepository(session)
    assert await counts.kept() == await counts.recount()


async def test_reports_and_a_send_back_move_every_count_above_the_unit(
    session: AsyncSession, clock: ManualClock, seed: dict[str, int]
) -> None:
    task_id = await _national_task(session, clock)
    top = view_of(await national.member_at(session, "BCA", Role.COORDINATOR))
    code, officer = await _staffed_commune(session, "T02-H1")
    actor = view_of(officer).actor
    await reports.submit_report(session, clock, actor, task_id, TaskState.IN_PROGRESS, 50, TZ)
    await reports.submit_report(session, clock, actor, task_id, TaskState.DONE, 100, TZ)
    page = await _committee_page(session, clock, task_id)
    t02 = next(line for line in page.lines if line.unit.code == "T02")
    assert (t02.duties, t02.done, t02.in_progress, t02.progress) == (6, 1, 0, 100)
    assert page.total.done == 1
    await _assert_exact(session)

    unit_id = seed[code]
    await reports.return_report(session, clock, top.actor, task_id, unit_id, "Bổ sung ảnh", TZ)
    page = await _committee_page(session, clock, task_id)
    t02 = next(line for line in page.lines if line.unit.code == "T02")
    assert (t02.done, t02.returned) == (0, 1)
    await _assert_exact(session)


async def test_a_units_first_member_takes_it_off_the_unstaffed_count(
    session: AsyncSession, clock: ManualClock, seed: dict[str, int]
) -> None:
    task_id = await _national_task(session, clock)
    top = view_of(await national.member_at(session, "BCA", Role.COORDINATOR))
    empty = [
        code
        for code in sorted(c for c in seed if c.count("-") == 2)
        if await _officer_of(session, code) is None
    ]
    assert empty, "the seed leaves ~15 % of communes empty"
    before = (await _committee_page(session, clock, task_id)).total
    assert before.unstaffed == len(empty)

    invitation = await onboarding.create_invitation(
        session, clock, top.actor, empty[0], Role.OFFICER, ttl=timedelta(days=1),
        auto_approve=True,
    )  # fmt: skip
    who = onboarding.TelegramIdentity(7_700_001, 7_700_001, "Cán bộ mới", None)
    result = await onboarding.redeem_invitation(
        session, clock, OnboardingConfig(), who, invitation.code, "vi"
    )
    assert result.member is not None
    assert result.member.status == MemberStatus.ACTIVE
    after = (await _committee_page(session, clock, task_id)).total
    assert after.unstaffed == len(empty) - 1
    await _assert_exact(session)


async def test_a_tree_import_that_moves_a_district_moves_its_counts(
    session: AsyncSession, clock: ManualClock, seed: dict[str, int]
) -> None:
    task_id = await _national_task(session, clock)
    code, officer = await _staffed_commune(session, "T01-H2")
    await reports.submit_report(
        session, clock, view_of(officer).actor, task_id, TaskState.DONE, 100, TZ
    )
    await CountRepository(session).apply()  # as the report's transaction ends
    # District T01-H2 now belongs to province T03 (a merger of provinces, as in 2025).
    moved = "code,name,level,parent_code\nT01-H2,Công an huyện T01-H2,district,T03".encode()
    await import_units(session, clock, Actor.system(), moved)
    page = await _committee_page(session, clock, task_id)
    by_code = {line.unit.code: line for line in page.lines}
    assert (by_code["T01"].duties, by_code["T01"].done) == (3, 0)
    assert (by_code["T03"].duties, by_code["T03"].done) == (9, 1)
    await _assert_exact(session)
