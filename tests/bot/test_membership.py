"""Membership apart from reachability, and text the database would reject, called directly."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.core.config import OnboardingConfig
from bot.services import directives, members
from bot.services.authz import Actor, NotAllowed
from bot.services.confirmations import Tap, confirm_taps
from bot.services.directives import Target
from bot.services.onboarding import (
    TelegramIdentity,
    create_invitation,
    decide_member,
    redeem_invitation,
)
from bot.services.reports import submit_report
from storage.models import Member, MemberStatus, OutboxMessage, Plan, Role, Task, TaskState
from storage.repositories.directives import DirectiveRepository
from storage.repositories.members import MemberRepository
from storage.repositories.units import UnitQueries, UnitRepository
from tests.factories import make_member, make_tree

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SETTINGS = OnboardingConfig(max_attempts=3, attempt_window=timedelta(minutes=10))
WEEK = timedelta(days=7)


async def _rejected_coordinator(session, clock) -> Member:
    """A would-be coordinator of Hà Nội, rejected by the committee."""
    await make_tree(session, clock)
    boss = await make_member(session, clock, "BCA", Role.COORDINATOR, name="Ban Chỉ đạo")
    code = (
        await create_invitation(session, clock, Actor.system(), "HN", Role.COORDINATOR, ttl=WEEK)
    ).code
    who = TelegramIdentity(777, 777, "Kẻ Mạo Danh", None)
    pending = (await redeem_invitation(session, clock, SETTINGS, who, code, "vi")).member
    assert pending is not None
    await decide_member(session, clock, boss.actor, pending.id, approve=False)
    member = await MemberRepository(session).get(pending.id)
    assert member is not None
    return member


async def _bounce_then_write(session, clock, member: Member) -> members.MemberView:
    """The notice bounced (403); later they unblock the bot and write again."""
    assert await members.mark_unreachable(session, clock, member.id, "blocked")
    clock.advance(timedelta(hours=1))
    seen = await members.note_seen(session, clock, member.telegram_user_id, member.chat_id)
    assert seen is not None
    return seen


async def test_a_rejected_member_who_bounced_and_wrote_again_stays_rejected(session, clock) -> None:
    member = await _rejected_coordinator(session, clock)
    seen = await _bounce_then_write(session, clock, member)
    assert seen.status == MemberStatus.REJECTED
    assert member.unreachable_since is None  # reachable again, and still not a member
    with pytest.raises(NotAllowed):
        await create_invitation(session, clock, seen.actor, "HN", Role.COORDINATOR, ttl=WEEK)
    with pytest.raises(NotAllowed):
        await directives.send_directive(
            session,
            clock,
            seen.actor,
            text="Chỉ đạo giả.",
            target=Target.parse("subtree"),
            ack_by=clock.now() + timedelta(hours=24),
            urgent=True,
            tz=TZ,
        )


async def test_a_removed_member_who_bounced_stays_removed_and_cannot_report(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    removed = await make_member(session, clock, "HN-BD-PX", status=MemberStatus.BLOCKED)
    unit = await UnitRepository(session).get_by_code("HN-BD-PX")
    assert unit is not None
    plan = Plan(
        code="333/KH-BCĐ",
        title="Ngày hội",
        event_date=(clock.now() + timedelta(days=30)).date(),
        owner_unit_id=unit.id,
        created_at=clock.now(),
    )
    session.add(plan)
    await session.flush()
    task = Task(
        plan_id=plan.id,
        title="Rà soát",
        deadline=clock.now() + timedelta(days=3),
        scope_unit_id=unit.id,
        author_label="x",
        created_at=clock.now(),
    )
    session.add(task)
    await session.flush()
    row = await MemberRepository(session).get(removed.id)
    assert row is not None
    seen = await _bounce_then_write(session, clock, row)
    assert seen.status == MemberStatus.BLOCKED
    with pytest.raises(NotAllowed):
        await submit_report(session, clock, seen.actor, task.id, TaskState.DONE, 100, TZ)
    assert boss.status == MemberStatus.ACTIVE


async def test_unreachable_is_a_fact_beside_the_status(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR, name="Tỉnh")
    officer = await make_member(session, clock, "HN-BD-PX", name="Cán bộ A")
    assert await members.mark_unreachable(session, clock, officer.id, "blocked")
    assert not await members.mark_unreachable(session, clock, officer.id, "blocked")  # once
    row = await MemberRepository(session).get(officer.id)
    assert row is not None
    assert (row.status, row.unreachable_since) == (MemberStatus.ACTIVE, clock.now())
    notices = list(
        await session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == boss.id))
    )
    assert len(notices) == 1
    assert "Cán bộ A" in notices[0].payload["text"]
    # No notification goes to them while Telegram refuses; the views still count them.
    repo = MemberRepository(session)
    assert [m.id for m in await repo.active_in_units([row.unit_id])] == []
    assert await repo.recipients_in_units([row.unit_id]) == []
    assert await repo.units_with_active_members([row.unit_id]) == set()
    assert await UnitQueries(session).count_active_members([row.unit_id]) == (0, 1)
    sent = await directives.send_directive(
        session,
        clock,
        boss.actor,
        text="Chuẩn bị lực lượng.",
        target=Target.parse("subtree"),
        ack_by=clock.now() + timedelta(hours=24),
        urgent=False,
        tz=TZ,
    )
    directive_id = sent.directive_id
    drepo = DirectiveRepository(session)
    assert officer.id not in {m.id for m in await drepo.recipients(directive_id)}
    assert [m.id for m in await drepo.unreachable(directive_id)] == [officer.id]
    # A group message does not make them reachable, and never becomes their chat.
    await members.note_seen(session, clock, row.telegram_user_id, -100123, private=False)
    assert (row.unreachable_since, row.chat_id) == (clock.now(), row.telegram_user_id)


async def test_a_confirmation_tap_proves_reachability_but_not_membership(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
    officer = await make_member(session, clock, "HN-BD-PX")
    sent = await directives.send_directive(
        session,
        clock,
        boss.actor,
        text="Chuẩn bị lực lượng.",
        target=Target.parse("subtree"),
        ack_by=clock.now() + timedelta(hours=24),
        urgent=False,
        tz=TZ,
    )
    directive_id = sent.directive_id
    removed = await make_member(session, clock, "HN-BD-TB", status=MemberStatus.BLOCKED)
    for m in (officer, removed):
        assert await members.mark_unreachable(session, clock, m.id, "blocked")
    taps = [Tap(m.telegram_user_id, directive_id, 1) for m in (officer, removed)]
    ok, refused = await confirm_taps(session, clock, taps, TZ)
    assert ok.result is not None
    assert refused.result is None
    assert refused.refusal == "authz.not_active"
    rows = {m.id: m for m in await session.scalars(select(Member))}
    assert rows[officer.id].unreachable_since is None
    assert rows[removed.id].status == MemberStatus.BLOCKED


@pytest.mark.parametrize("dirty", ["Nguyễn\x00 Văn An", "Nguyễn Văn An\ud800"])
async def test_text_the_database_rejects_is_stored_cleaned(session, clock, dirty: str) -> None:
    await make_tree(session, clock)
    member = await make_member(session, clock, "HN-BD-PX", name=dirty)
    await session.flush()  # the INSERT reaches the database, which takes the value
    session.expire_all()
    stored = await session.scalar(select(Member.full_name).where(Member.id == member.id))
    assert stored in {"Nguyễn Văn An", "Nguyễn Văn An?"}
    assert "\x00" not in stored
    # a query compared with such text is cleaned the same way, not refused by the database
    found = await session.scalar(select(Member.id).where(Member.full_name == dirty))
    assert found == member.id
