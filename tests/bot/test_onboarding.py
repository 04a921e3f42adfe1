"""Invitations and registration, called directly: no Telegram."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.config import OnboardingConfig
from bot.services.authz import Actor, NotAllowed
from bot.services.onboarding import (
    Decided,
    InvalidInvitation,
    Redeemed,
    TelegramIdentity,
    UnknownUnit,
    approval_ref,
    create_invitation,
    decide_member,
    hash_code,
    redeem_invitation,
)
from storage.models import Invitation, MemberStatus, OutboxMessage, Role
from storage.repositories.members import MemberRepository
from storage.repositories.outbox import OutboxRepository
from tests.factories import make_member, make_tree

SETTINGS = OnboardingConfig(max_attempts=3, attempt_window=timedelta(minutes=10))
WEEK = timedelta(days=7)


def who(user_id: int = 900, name: str = "Nguyễn Văn An") -> TelegramIdentity:
    return TelegramIdentity(user_id, user_id, name, "nvan")


async def _invite(session, clock, unit="HN-BD-PX", role=Role.OFFICER, **kw):
    return await create_invitation(
        session, clock, Actor.system(), unit, role, ttl=kw.pop("ttl", WEEK), **kw
    )


async def _outbox(session) -> list[OutboxMessage]:
    return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_codes_are_stored_hashed(session, clock) -> None:
    await make_tree(session, clock)
    created = await _invite(session, clock)
    stored = await session.scalar(select(Invitation))
    assert stored.code_hash == hash_code(created.code)
    assert created.code not in stored.code_hash
    assert len(created.code) <= 64


async def test_pending_registration_asks_the_nearest_coordinators(session, clock) -> None:
    await make_tree(session, clock)
    district = await make_member(session, clock, "HN-BD", Role.COORDINATOR, name="Quận")
    await make_member(session, clock, "HN", Role.COORDINATOR, name="Tỉnh")
    created = await _invite(session, clock)
    result = await redeem_invitation(session, clock, SETTINGS, who(), created.code, "vi")
    assert result.outcome is Redeemed.PENDING
    assert result.member.status is MemberStatus.PENDING
    assert result.approvers == 1
    requests = [r for r in await _outbox(session) if r.ref == approval_ref(result.member.id)]
    assert [r.member_id for r in requests] == [district.id]
    buttons = requests[0].payload["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == [
        f"md:{result.member.id}:y",
        f"md:{result.member.id}:n",
    ]


async def test_auto_approve_registers_active(session, clock) -> None:
    await make_tree(session, clock)
    created = await _invite(session, clock, auto_approve=True)
    result = await redeem_invitation(session, clock, SETTINGS, who(), created.code, "vi")
    assert result.outcome is Redeemed.ACTIVE
    assert not [r for r in await _outbox(session) if r.ref and r.ref.startswith("approval")]


async def test_wrong_expired_and_used_up_codes(session, clock) -> None:
    await make_tree(session, clock)
    one_use = await _invite(session, clock, uses=1)
    short = await _invite(session, clock, ttl=timedelta(hours=1))
    wrong = await redeem_invitation(session, clock, SETTINGS, who(1), "nope", "vi")
    assert wrong.outcome is Redeemed.INVALID
    first = await redeem_invitation(session, clock, SETTINGS, who(2), one_use.code, "vi")
    assert first.outcome is Redeemed.PENDING
    second = await redeem_invitation(session, clock, SETTINGS, who(3), one_use.code, "vi")
    assert second.outcome is Redeemed.USED_UP
    clock.advance(timedelta(hours=2))
    late = await redeem_invitation(session, clock, SETTINGS, who(4), short.code, "vi")
    assert late.outcome is Redeemed.EXPIRED
    assert await MemberRepository(session).get_by_telegram_id(3) is None


async def test_failed_tries_are_limited_then_forgiven(session, clock) -> None:
    await make_tree(session, clock)
    good = await _invite(session, clock)
    for _ in range(SETTINGS.max_attempts):
        result = await redeem_invitation(session, clock, SETTINGS, who(), "bad", "vi")
        assert result.outcome is Redeemed.INVALID
    blocked = await redeem_invitation(session, clock, SETTINGS, who(), good.code, "vi")
    assert blocked.outcome is Redeemed.TOO_MANY_TRIES
    assert blocked.retry_at == clock.now() + SETTINGS.attempt_window
    other_user = await redeem_invitation(session, clock, SETTINGS, who(901), good.code, "vi")
    assert other_user.outcome is Redeemed.PENDING
    clock.advance(SETTINGS.attempt_window + timedelta(seconds=1))
    good2 = await _invite(session, clock)
    later = await redeem_invitation(session, clock, SETTINGS, who(), good2.code, "vi")
    assert later.outcome is Redeemed.PENDING


async def test_active_member_is_not_moved_by_another_code(session, clock) -> None:
    await make_tree(session, clock)
    first = await _invite(session, clock, auto_approve=True)
    other = await _invite(session, clock, unit="QN-HL-BC")
    await redeem_invitation(session, clock, SETTINGS, who(), first.code, "vi")
    again = await redeem_invitation(session, clock, SETTINGS, who(), other.code, "vi")
    assert again.outcome is Redeemed.ALREADY_MEMBER
    assert again.member.unit_code == "HN-BD-PX"
    stored = await session.scalar(select(Invitation).where(Invitation.unit_id != None))  # noqa: E711
    assert stored is not None


async def test_approve_notifies_member_and_closes_every_copy(session, clock) -> None:
    await make_tree(session, clock)
    c1 = await make_member(session, clock, "HN-BD", Role.COORDINATOR, name="Một")
    c2 = await make_member(session, clock, "HN-BD", Role.COORDINATOR, name="Hai", language="en")
    created = await _invite(session, clock)
    pending = (await redeem_invitation(session, clock, SETTINGS, who(), created.code, "vi")).member
    copies = await OutboxRepository(session).by_ref(approval_ref(pending.id))
    copies[0].status = "sent"
    copies[0].telegram_message_id = 55

    result = await decide_member(session, clock, c1.actor, pending.id, approve=True)
    assert result.outcome is Decided.DONE
    member = await MemberRepository(session).get(pending.id)
    assert member.status == MemberStatus.ACTIVE
    assert member.decided_by_id == c1.id
    rows = await _outbox(session)
    told = [r for r in rows if r.member_id == pending.id and r.method == "sendMessage"]
    assert "phê duyệt" in told[-1].payload["text"]
    edits = [r for r in rows if r.method == "editMessageText"]
    assert [(e.edit_of_id, e.member_id) for e in edits] == [(copies[0].id, c1.id)]
    assert "Một" in edits[0].payload["text"]
    unsent = next(r for r in rows if r.id == copies[1].id)
    assert "reply_markup" not in unsent.payload, "the unsent copy lost its buttons"
    assert "approved by Một" in unsent.payload["text"], "and speaks its reader's language"
    assert c2.language == "en"

    again = await decide_member(session, clock, c1.actor, pending.id, approve=False)
    assert again.outcome is Decided.ALREADY_DECIDED
    assert (await MemberRepository(session).get(pending.id)).status == MemberStatus.ACTIVE


async def test_reject_and_scope(session, clock) -> None:
    await make_tree(session, clock)
    outsider = await make_member(session, clock, "QN", Role.COORDINATOR)
    officer = await make_member(session, clock, "HN-BD-PX", Role.OFFICER)
    inside = await make_member(session, clock, "HN", Role.COORDINATOR)
    created = await _invite(session, clock)
    pending = (await redeem_invitation(session, clock, SETTINGS, who(), created.code, "vi")).member
    for actor in (outsider.actor, officer.actor):
        with pytest.raises(NotAllowed):
            await decide_member(session, clock, actor, pending.id, approve=True)
    result = await decide_member(session, clock, inside.actor, pending.id, approve=False)
    assert result.outcome is Decided.DONE
    assert not result.approved
    member = await MemberRepository(session).get(pending.id)
    assert member.status == MemberStatus.REJECTED
    missing = await decide_member(session, clock, inside.actor, 999_999, approve=True)
    assert missing.outcome is Decided.NOT_FOUND


async def test_invitation_scope_and_parameters(session, clock) -> None:
    await make_tree(session, clock)
    coordinator = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
    ok = await create_invitation(
        session, clock, coordinator.actor, "HN-BD-TB", Role.OFFICER, ttl=WEEK
    )
    assert ok.unit_code == "HN-BD-TB"
    with pytest.raises(NotAllowed):
        await create_invitation(
            session, clock, coordinator.actor, "QN-HL-BC", Role.OFFICER, ttl=WEEK
        )
    with pytest.raises(NotAllowed):
        await create_invitation(session, clock, coordinator.actor, "HN-BD", Role.ADMIN, ttl=WEEK)
    with pytest.raises(UnknownUnit):
        await create_invitation(session, clock, coordinator.actor, "NOPE", Role.OFFICER, ttl=WEEK)
    with pytest.raises(InvalidInvitation):
        await create_invitation(
            session, clock, coordinator.actor, "HN-BD", Role.OFFICER, uses=0, ttl=WEEK
        )
