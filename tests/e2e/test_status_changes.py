"""Statuses that change under a member: a bounce or a message never makes anyone active."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.core.i18n import t
from bot.emulator import Person
from bot.services.notify import Notifier
from storage.models import Member, MemberStatus, Role, TaskReport
from tests.e2e.conftest import BotEnv


async def _member(env: BotEnv, person: Person) -> Member:
    async with env.db.session() as session:
        member = await session.scalar(
            select(Member).where(Member.telegram_user_id == person.user.id)
        )
    assert member is not None
    return member


async def _bounced(env: BotEnv, person: Person) -> None:
    """Once the outbox has drained, its 403 is recorded (in the same write as the outcome)."""
    await env.settle()
    assert (await _member(env, person)).unreachable_since is not None


async def test_a_rejected_coordinator_who_bounced_and_came_back_stays_rejected(
    env: BotEnv,
) -> None:
    committee = await env.member("Ban", "BCA", Role.COORDINATOR)
    intruder = env.person("Mạo", "Danh")
    code = await env.invite("HN", Role.COORDINATOR)
    await intruder.ask(f"/start {code}")
    request = await committee.next_message()
    intruder.block_bot()  # the rejection notice will bounce (403)
    answer = await committee.press(request, "Từ chối")
    assert answer.text == t("vi", "approval.answer_rejected")
    await _bounced(env, intruder)
    assert (await _member(env, intruder)).status == MemberStatus.REJECTED

    intruder.block_bot(False)
    back = await intruder.ask("/start")
    assert t("vi", "statuses.rejected") in back.body
    row = await _member(env, intruder)
    assert (row.status, row.unreachable_since) == (MemberStatus.REJECTED, None)
    refused = t("vi", "authz.not_active")
    assert (await intruder.ask("/invite HN coordinator")).body == refused
    assert (await intruder.ask("/directive")).body == refused
    assert (await _member(env, intruder)).status == MemberStatus.REJECTED


async def test_a_removed_member_whose_message_bounced_stays_removed(env: BotEnv) -> None:
    officer = await env.member("An", "HN-BD-PX")
    await env.settle()
    async with env.db.session() as session:  # an administrator removes them
        await session.execute(
            update(Member)
            .where(Member.telegram_user_id == officer.user.id)
            .values(status=MemberStatus.BLOCKED)
        )
    officer.block_bot()
    member = await _member(env, officer)
    async with env.db.session() as session:  # a message queued for them bounces
        Notifier(session, env.clock.now()).text(member, "tin cũ")
    await _bounced(env, officer)

    officer.block_bot(False)
    back = await officer.ask("/start")
    assert t("vi", "statuses.blocked") in back.body
    assert (await officer.ask("/report 1 xong")).body == t("vi", "authz.not_active")
    row = await _member(env, officer)
    assert (row.status, row.unreachable_since) == (MemberStatus.BLOCKED, None)
    async with env.db.session() as session:
        assert list(await session.scalars(select(TaskReport))) == []
