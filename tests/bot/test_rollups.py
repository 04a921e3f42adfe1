"""Roll-ups by level at national shape: each line is a child unit's part, worst first, the
viewer's own subtree only, pages of a phone screen, the bottom level lists people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.services import directives, plans
from bot.services.authz import NotAllowed
from bot.services.directives import Target
from bot.services.members import view_of
from bot.services.rollups import PAGE, RollupError, Rollups
from storage.models import DirectiveTarget, Member, Role, TaskAssignment, TaskState, Unit
from storage.repositories.counts import CountRepository
from tests import national
from tests.bot.test_reminders import TZ


async def _national_task(session: AsyncSession, clock: ManualClock, plan_code: str = "333") -> int:
    top = view_of(await national.member_at(session, "BCA", Role.COORDINATOR))
    plan = await plans.create_plan(
        session, clock, top.actor, code=plan_code, title="Ngày hội",
        event_date=(clock.now() + timedelta(days=30)).date(),
    )  # fmt: skip
    sent = await plans.create_task(
        session, clock, top.actor, plan.id, title="Rà soát địa điểm", description="",
        deadline=clock.now() + timedelta(days=2), target=Target.parse("level:commune"), tz=TZ,
    )  # fmt: skip
    return sent.task_id


async def _path(session: AsyncSession, code: str) -> str:
    """A unit's subtree prefix (ids differ between databases and runs)."""
    path = await session.scalar(select(Unit.path).where(Unit.code == code))
    assert path is not None
    return path


@pytest.fixture
async def seed(session: AsyncSession, clock: ManualClock) -> dict[str, int]:
    return await national.build(session, clock, national.SEED)


async def test_the_committee_sees_one_line_per_province_worst_first(
    session: AsyncSession, clock: ManualClock, seed: dict[str, int]
) -> None:
    task_id = await _national_task(session, clock)
    # Province T05 has done everything; T07's communes are all blocked.
    for code, state in (("T05", TaskState.DONE), ("T07", TaskState.BLOCKED)):
        await session.execute(
            update(TaskAssignment)
            .where(
                TaskAssignment.task_id == task_id,
                TaskAssignment.unit_id.in_(
                    select(Unit.id).where(Unit.path.startswith(await _path(session, code)))
                ),
            )
            .values(state=state)
        )
    await CountRepository(session).rebuild()  # the states were written past the services
    top = view_of(await national.member_at(session, "BCA", Role.COORDINATOR))
    views = Rollups(session, top.actor, clock.now())
    first = await views.page("t", task_id, None, 0)
    assert (first.total.duties, first.total.units) == (3024, 3024)
    assert first.pages == -(-63 // PAGE)
    assert len(first.lines) == PAGE
    assert first.lines[0].unit.code == "T07"  # blocked and nothing done: the worst
    assert first.lines[0].blocked == 48
    assert first.up is None  # nothing above the committee
    assert 300 < first.total.unstaffed < 600  # ~15 % of communes have nobody
    last = await views.page("t", task_id, None, first.pages - 1)
    assert last.lines[-1].unit.code == "T05"  # all done: the best, last
    pages = [await views.page("t", task_id, None, n) for n in range(first.pages)]
    assert sum(len(p.lines) for p in pages) == 63
    assert sum(line.duties for p in pages for line in p.lines) == 3024
    with pytest.raises(RollupError):
        await views.page("t", task_id, None, first.pages)  # a page that is not there


async def test_a_province_sees_its_own_part_and_goes_down_to_a_commune_and_back(
    session: AsyncSession, clock: ManualClock, seed: dict[str, int]
) -> None:
    task_id = await _national_task(session, clock)
    province = view_of(await national.member_at(session, "T01", Role.COORDINATOR))
    views = Rollups(session, province.actor, clock.now())
    mine = await views.page("t", task_id, None, 0)
    assert mine.at.code == "T01"
    assert (mine.total.units, len(mine.lines), mine.pages) == (48, 6, 1)
    assert mine.up is None  # the province coordinator cannot go above their province
    district = await views.page("t", task_id, mine.lines[0].unit.id, 0)
    assert district.up is not None
    assert district.up.code == "T01"
    assert [line.duties for line in district.lines] == [1] * 8
    commune = await views.page("t", task_id, district.lines[0].unit.code, 0)
    assert commune.lines == []
    assert commune.members is not None  # the bottom level: its people
    assert commune.total.duties == 1
    with pytest.raises(NotAllowed):
        await views.page("t", task_id, "T02", 0)  # another province: not theirs
    with pytest.raises(NotAllowed):
        await views.page("t", task_id, seed["BCA"], 0)  # up past their own unit


async def test_a_national_directive_is_seen_by_each_province_for_its_part(
    session: AsyncSession, clock: ManualClock, seed: dict[str, int]
) -> None:
    top = view_of(await national.member_at(session, "BCA", Role.COORDINATOR))
    sent = await directives.send_directive(
        session, clock, top.actor, text="Triển khai Kế hoạch 333", urgent=False, tz=TZ,
        target=Target.parse("level:commune"), ack_by=clock.now() + timedelta(hours=4),
    )  # fmt: skip
    t01 = select(Unit.id).where(Unit.path.startswith(await _path(session, "T01")))
    await session.execute(
        update(DirectiveTarget)
        .where(DirectiveTarget.directive_id == sent.directive_id, DirectiveTarget.unit_id.in_(t01))
        .values(confirmed_at=clock.now())
    )
    await CountRepository(session).rebuild()
    province = view_of(await national.member_at(session, "T03", Role.COORDINATOR))
    page = await Rollups(session, province.actor, clock.now()).page("d", sent.directive_id, None, 0)
    assert (page.total.units, page.total.done, page.total.late) == (48, 0, 0)
    clock.advance(timedelta(hours=5))
    views = Rollups(session, top.actor, clock.now())
    whole = await views.page("d", sent.directive_id, None, 0)
    assert (whole.total.units, whole.total.done, whole.total.late) == (3024, 48, 3024 - 48)
    last = await views.page("d", sent.directive_id, None, whole.pages - 1)
    assert last.lines[-1].unit.code == "T01"  # the one province that confirmed, last


async def test_the_whole_picture_counts_every_open_task_in_the_viewers_part(
    session: AsyncSession, clock: ManualClock, seed: dict[str, int]
) -> None:
    await _national_task(session, clock)
    await _national_task(session, clock, "334")
    province = view_of(await national.member_at(session, "T01", Role.COORDINATOR))
    page = await Rollups(session, province.actor, clock.now()).page("a", 0, None, 0)
    assert (page.total.duties, page.total.units) == (96, 48)
    officer = await session.scalar(select(Member).where(Member.role == Role.OFFICER).limit(1))
    assert officer is not None
    with pytest.raises(NotAllowed):  # an officer sees their own unit's work, not the tree
        await Rollups(session, view_of(officer).actor, clock.now()).page("a", 0, "T01", 0)


async def test_a_plan_with_nothing_in_the_viewers_part_is_not_shown(
    session: AsyncSession, clock: ManualClock, seed: dict[str, int]
) -> None:
    top = view_of(await national.member_at(session, "BCA", Role.COORDINATOR))
    plan = await plans.create_plan(
        session, clock, top.actor, code="KH-rieng", title="Kế hoạch riêng của Bộ",
        event_date=(clock.now() + timedelta(days=30)).date(),
    )  # fmt: skip
    province = view_of(await national.member_at(session, "T01", Role.COORDINATOR))
    with pytest.raises(RollupError):  # a forged button names it: its title stays unseen
        await Rollups(session, province.actor, clock.now()).page("p", plan.id, None, 0)
