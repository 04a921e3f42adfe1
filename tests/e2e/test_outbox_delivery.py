"""The outbox under Telegram's limits and faults: nothing dropped, nothing sent into a ban."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.core.clock import SystemClock
from bot.emulator import BotApiEmulator, Fault, FaultKind, LimitSettings
from bot.runner import serve
from bot.services.notify import Notifier
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Member, MemberStatus, OutboxMessage, OutboxStatus, Role
from tests.e2e.conftest import WAIT, BotEnv, e2e_config
from tests.factories import make_member, make_tree


async def _notify(env: BotEnv, person_user_id: int, texts: list[str]) -> None:
    async with env.db.session() as session:
        member = await session.scalar(
            select(Member).where(Member.telegram_user_id == person_user_id)
        )
        assert member is not None
        notifier = Notifier(session, env.clock.now())
        for text in texts:
            notifier.text(member, text)


async def _member(env: BotEnv, person_user_id: int) -> Member:
    async with env.db.session() as session:
        member = await session.scalar(
            select(Member).where(Member.telegram_user_id == person_user_id)
        )
    assert member is not None
    return member


async def _rows(env: BotEnv) -> list[OutboxMessage]:
    async with env.db.session() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_flood_ban_is_waited_out_and_nothing_is_dropped(env: BotEnv) -> None:
    officer = await env.member("An", "HN-BD-PX")
    env.emulator.add_fault(Fault(FaultKind.FLOOD, method="sendMessage", retry_after=2))
    await _notify(env, officer.user.id, ["một", "hai", "ba"])
    await env.settle()
    assert [m.body for m in officer.bot_messages()[-3:]] == ["một", "hai", "ba"]
    assert env.emulator.limits.requests_during_ban == 0
    assert env.emulator.errors[429] == 1
    assert all(r.status == OutboxStatus.SENT for r in await _rows(env))


async def test_server_errors_are_retried_with_backoff(env: BotEnv) -> None:
    officer = await env.member("An", "HN-BD-PX")
    env.emulator.add_fault(Fault(FaultKind.SERVER_ERROR, method="sendMessage", times=2))
    await _notify(env, officer.user.id, ["sau hai lần lỗi"])
    await env.until(lambda: officer.last().body == "sau hai lần lỗi")
    await env.settle()
    row = (await _rows(env))[-1]
    assert (row.attempts, row.status, env.emulator.errors[502]) == (3, OutboxStatus.SENT, 2), (
        row.last_error
    )
    assert env.emulator.delivered[officer.user.id] >= 1


async def test_bad_request_marks_the_row_failed_with_the_reason(env: BotEnv) -> None:
    officer = await env.member("An", "HN-BD-PX")
    env.emulator.add_fault(Fault(FaultKind.BAD_REQUEST, method="sendMessage"))
    await _notify(env, officer.user.id, ["không gửi được"])
    await env.settle()
    row = (await _rows(env))[-1]
    assert row.status == OutboxStatus.FAILED
    assert row.last_error is not None
    assert "Injected fault" in row.last_error


async def test_blocked_member_becomes_unreachable_and_coordinator_is_told(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX", last="Nguyễn")
    officer.block_bot()
    await _notify(env, officer.user.id, ["chỉ đạo mới"])
    notice = await coordinator.next_message()
    assert "An Nguyễn" in notice.body
    assert "chặn bot" in notice.body
    member = await _member(env, officer.user.id)
    # Reachability is a fact beside the membership, which a bounce never changes.
    assert (member.status, member.unreachable_since is not None) == (MemberStatus.ACTIVE, True)

    officer.block_bot(False)
    back = await officer.ask("/start")
    assert "đang hoạt động" in back.body
    member = await _member(env, officer.user.id)
    assert (member.status, member.unreachable_since) == (MemberStatus.ACTIVE, None)


async def test_direct_replies_keep_the_real_per_chat_limit(fresh_url: str) -> None:
    """With Telegram's own 1 message/s per chat, fast typing still gets every answer, no 429."""
    async with BotApiEmulator(limits=LimitSettings(enabled=True)) as emulator:
        config = e2e_config(emulator, fresh_url, per_chat_interval=1.05)
        stop, started = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(config, stop, started=started))
        await asyncio.wait_for(started.wait(), WAIT)
        try:
            person = emulator.person("Nhanh")
            for text in ("/help", "/me", "/start", "xin chào"):
                person.send(text)
            await person.wait_until(lambda: len(person.bot_messages()) == 4, within=WAIT)
            assert emulator.errors[429] == 0
        finally:
            stop.set()
            await task


async def test_pending_messages_survive_a_restart(emulator: BotApiEmulator, fresh_url: str) -> None:
    """Rows written while the bot was down, or left in flight by a crash, go out on start."""
    person = emulator.person("An")
    clock = SystemClock()
    db = Database(fresh_url)
    await upgrade(db.engine)
    async with db.session() as session:
        await make_tree(session, clock)
        member = await make_member(session, clock, "HN-BD-PX", telegram_user_id=person.user.id)
        row = await session.get(Member, member.id)
        assert row is not None
        notifier = Notifier(session, clock.now())
        notifier.text(row, "viết khi bot tắt")
        crashed = notifier.text(row, "đang gửi thì mất điện")
        await session.flush()
        crashed.status = OutboxStatus.SENDING
        crashed.lease_until = clock.now() - timedelta(seconds=1)
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(e2e_config(emulator, fresh_url), stop, started=started))
    try:
        await asyncio.wait_for(started.wait(), WAIT)
        await person.wait_until(lambda: len(person.bot_messages()) == 2, within=WAIT)
        assert [m.body for m in person.bot_messages()] == [
            "viết khi bot tắt",
            "đang gửi thì mất điện",
        ]
    finally:
        stop.set()
        await task
        await db.dispose()


async def test_timeouts_are_retried_without_loss(env: BotEnv) -> None:
    officer = await env.member("An", "HN-BD-PX")
    env.emulator.add_fault(Fault(FaultKind.TIMEOUT, method="sendMessage", delay=3.0))
    await _notify(env, officer.user.id, ["sau một lần quá hạn chờ"])
    await env.until(lambda: officer.last().body == "sau một lần quá hạn chờ")
    await env.settle()
    assert [m.body for m in officer.bot_messages()].count("sau một lần quá hạn chờ") == 1
    row = (await _rows(env))[-1]
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 2


async def test_a_429_storm_never_drops_and_never_sends_into_a_ban(env: BotEnv) -> None:
    people = [await env.member(f"Cán bộ {i}", "HN-BD-PX") for i in range(6)]
    for retry_after in (1, 2, 1):
        env.emulator.add_fault(
            Fault(FaultKind.FLOOD, method="sendMessage", retry_after=retry_after)
        )
    for person in people:
        await _notify(env, person.user.id, [f"tin {i}" for i in range(3)])
    await env.settle()
    for person in people:
        assert [m.body for m in person.bot_messages()[-3:]] == ["tin 0", "tin 1", "tin 2"], [
            m.body for m in person.bot_messages()
        ]
    assert env.emulator.limits.requests_during_ban == 0
    # besides the three bans, only requests already on the wire when a ban began were refused
    assert env.emulator.errors[429] == 3 + env.emulator.limits.requests_in_flight_at_ban
