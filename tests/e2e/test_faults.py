"""Faults from outside: an update the library cannot read, a failing answer, a 400 for a
recipient, and a Bot API that is not up yet when the bot starts."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.core.config import Config
from bot.emulator import BotApiEmulator, Fault, FaultKind
from bot.runner import serve
from bot.services.notify import Notifier
from storage.models import AuditEvent, Member, OutboxMessage, OutboxStatus, Role
from tests.e2e.conftest import FAST_CHATS, BotEnv, e2e_config

# A poll as an older self-hosted Bot API server sends it: no ``allows_revoting``.
OLD_POLL = {
    "id": "5000",
    "question": "Họp lúc mấy giờ?",
    "options": [{"text": "8:00", "voter_count": 1}, {"text": "14:00", "voter_count": 0}],
    "total_voter_count": 1,
    "is_closed": False,
    "is_anonymous": True,
    "type": "regular",
    "allows_multiple_answers": False,
}


class _Seen(logging.Handler):
    """Log records as they come, and an event for the first one that contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.text = text
        self.records: list[logging.LogRecord] = []
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.records.append(record)
            self.event.set()


@pytest.fixture
def seen() -> Iterator[Callable[[str], _Seen]]:
    added: list[_Seen] = []
    root = logging.getLogger()

    def make(text: str) -> _Seen:
        handler = _Seen(text)
        root.addHandler(handler)
        added.append(handler)
        return handler

    level = root.level
    root.setLevel(logging.INFO)
    yield make
    for handler in added:
        root.removeHandler(handler)
    root.setLevel(level)


async def test_an_unreadable_update_is_skipped_and_the_next_is_answered(
    env: BotEnv, seen: Callable[[str], _Seen]
) -> None:
    skipped = seen("could not be read")
    pushed = env.emulator.world.push_update("poll", OLD_POLL)
    person = env.person("Lan")
    reply = await person.ask("/help")
    assert "/start" in reply.body
    await asyncio.wait_for(skipped.event.wait(), 5)
    assert len(skipped.records) == 1  # logged once, not once per poll
    assert str(pushed["update_id"]) in skipped.records[0].getMessage()
    # After a restart the skipped update does not come back: the offset moved past it.
    await env.restart()
    again = await person.ask("/help")
    assert "/start" in again.body
    assert len(skipped.records) == 1


async def test_the_error_reply_is_in_english_and_says_it_was_saved(env: BotEnv) -> None:
    ann = await env.member("Ann", "HN-BD-PX")
    switched = await ann.ask("/lang en")
    assert switched.body == "Switched to English."
    await env.settle()
    # The answer to the next change fails once; the change itself is committed before it.
    env.emulator.add_fault(Fault(FaultKind.BAD_REQUEST, method="sendMessage", chat_id=ann.chat.id))
    reply = await ann.ask("/lang en")
    assert reply.body.startswith("Something went wrong while showing the result")
    assert "it was saved" in reply.body


async def test_the_error_reply_says_when_nothing_was_saved(env: BotEnv) -> None:
    ann = await env.member("Ann", "HN-BD-PX")
    await ann.ask("/lang en")
    await env.settle()
    env.emulator.add_fault(Fault(FaultKind.BAD_REQUEST, method="sendMessage", chat_id=ann.chat.id))
    reply = await ann.ask("/help")  # saves nothing; its answer fails
    assert "it was not saved" in reply.body
    assert "lost" not in reply.body


async def _queue(env: BotEnv, user_id: int, texts: list[str]) -> None:
    async with env.db.session() as session:
        member = await session.scalar(select(Member).where(Member.telegram_user_id == user_id))
        assert member is not None
        notifier = Notifier(session, env.clock.now())
        for text in texts:
            notifier.text(member, text)


async def test_a_400_for_a_recipient_reaches_their_coordinator_once(env: BotEnv) -> None:
    chief = await env.member("Bình", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    env.emulator.add_fault(
        Fault(FaultKind.BAD_REQUEST, method="sendMessage", chat_id=officer.chat.id, times=3)
    )
    await _queue(env, officer.user.id, ["một", "hai", "ba"])
    notice = await chief.next_message(within=15)
    assert notice.body.startswith("📵")
    assert "An" in notice.body
    await env.settle()
    assert chief.unread() == []  # three refused messages, one notice
    async with env.db.session() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.chat_id == officer.chat.id)
            )
        )
        audits = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "member.undeliverable")
            )
        )
    assert [r.status for r in rows[-3:]] == [OutboxStatus.FAILED] * 3
    assert len(audits) == 1


def _pointed_at(config: Config, port: int) -> Config:
    """``config`` with the Bot API on ``port`` of this machine."""
    telegram = replace(
        config.telegram,
        base_url=f"http://127.0.0.1:{port}/bot",
        base_file_url=f"http://127.0.0.1:{port}/file/bot",
    )
    return replace(config, telegram=telegram)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_start_waits_for_a_bot_api_that_is_not_up_yet(
    fresh_url: str, seen: Callable[[str], _Seen]
) -> None:
    waiting = seen("is not reachable")
    emulator = BotApiEmulator(limits=FAST_CHATS)
    port = _free_port()
    config = _pointed_at(e2e_config(emulator, fresh_url), port)
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(config, stop, started=started))
    try:
        await asyncio.wait_for(waiting.event.wait(), 10)
        assert not started.is_set()
        assert not task.done()
        await emulator.start(port)
        await asyncio.wait_for(started.wait(), 20)
        reply = await emulator.person("Hà").ask("/help")
        assert "/start" in reply.body
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await emulator.stop()


async def test_a_stop_while_waiting_for_the_bot_api_ends_cleanly(
    fresh_url: str, seen: Callable[[str], _Seen]
) -> None:
    waiting = seen("is not reachable")
    emulator = BotApiEmulator()
    config = _pointed_at(e2e_config(emulator, fresh_url), _free_port())  # nobody listens
    stop = asyncio.Event()
    task = asyncio.create_task(serve(config, stop))
    await asyncio.wait_for(waiting.event.wait(), 10)
    stop.set()
    await asyncio.wait_for(task, 5)  # returns, no exception, no traceback
    assert task.exception() is None
