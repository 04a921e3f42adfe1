"""A stop in the middle of a broadcast, then a restart: nothing lost; a supervisor's SIGTERM
repeats nothing, a ``kill -9`` at most the calls it cut off."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.clock import SystemClock
from bot.emulator import BotApiEmulator, LimitSettings
from bot.services.directives import Target, send_directive
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxStatus, Role
from storage.repositories.outbox import OutboxRepository
from tests.factories import make_member, make_tree

RECIPIENTS = 150
MAX_IN_FLIGHT = 16


def _write_config(path: Path, emulator: BotApiEmulator, url: str) -> Path:
    path.write_text(
        f'[telegram]\ntoken = "{emulator.token}"\nbase_url = "{emulator.base_url}"\n'
        f'base_file_url = "{emulator.base_file_url}"\npoll_timeout = 1\n'
        f'[database]\nurl = "{url}"\n'
        f"[outbox]\nmax_in_flight = {MAX_IN_FLIGHT}\npoll_interval = 0.05\n"
        f'[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )
    return path


async def _start(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "run",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def _directive_counts(emulator: BotApiEmulator, chat_ids: list[int]) -> Counter[int]:
    counts: Counter[int] = Counter()
    for chat_id in chat_ids:
        chat = emulator.world.chats[chat_id]
        counts[chat_id] = sum(1 for m in chat.messages.values() if "CHỈ ĐẠO" in m.body)
    return counts


async def _until(condition: Callable[[], bool], within: float) -> None:
    """Poll: the bot runs in another process, so there is no event to wait on."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def _drained(url: str, within: float) -> None:
    """Until no outbox row is pending or in flight: after that the bot has nothing to send."""
    db = Database(url)
    try:
        async with asyncio.timeout(within):
            while True:
                async with db.session() as session:
                    counts = await OutboxRepository(session).count_by_status()
                if not counts.get(OutboxStatus.PENDING) and not counts.get(OutboxStatus.SENDING):
                    return
                await asyncio.sleep(0.05)
    finally:
        await db.dispose()


async def _broadcast(emulator: BotApiEmulator, url: str) -> list[int]:
    """A directive to RECIPIENTS officers, queued in the outbox of a fresh database."""
    people = [emulator.person(f"Cán bộ {i}") for i in range(RECIPIENTS)]
    db = Database(url)
    await upgrade(db.engine)
    clock = SystemClock()
    async with db.session() as session:
        await make_tree(session, clock)
        boss = await make_member(session, clock, "HN", Role.COORDINATOR)
        for index, person in enumerate(people):
            unit = "HN-BD-PX" if index % 2 else "HN-BD-TB"
            await make_member(session, clock, unit, telegram_user_id=person.user.id)
        sent = await send_directive(
            session,
            clock,
            boss.actor,
            text="Triển khai kế hoạch 333/KH-BCĐ.",
            target=Target.parse("level:commune"),
            ack_by=clock.now() + timedelta(days=1),
            urgent=False,
            tz=ZoneInfo("Asia/Ho_Chi_Minh"),
        )
    await db.dispose()
    assert sent.member_count == RECIPIENTS
    return [p.user.id for p in people]


async def _stop_halfway(
    config: Path, emulator: BotApiEmulator, chat_ids: list[int], how: int
) -> int:
    """Run the bot until half the members have the directive, then send it ``how``; returns
    the exit status."""
    first = await _start(config)
    try:
        await _until(
            lambda: sum(_directive_counts(emulator, chat_ids).values()) >= RECIPIENTS // 2,
            within=60,
        )
    finally:
        first.send_signal(how)
        async with asyncio.timeout(60):
            status = await first.wait()
    at_stop = sum(_directive_counts(emulator, chat_ids).values())
    assert at_stop < RECIPIENTS, "the stop came too late to test anything"
    return status


async def _restart_until_everyone_has_it(
    config: Path, emulator: BotApiEmulator, chat_ids: list[int], url: str
) -> int:
    """Start again until every member has the directive and the outbox is empty; returns
    how many copies were more than one a member."""
    second = await _start(config)
    try:
        await _until(lambda: min(_directive_counts(emulator, chat_ids).values()) >= 1, within=90)
        await _drained(url, within=60)  # anything still queued has shown itself
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()
    counts = _directive_counts(emulator, chat_ids)
    assert min(counts.values()) == 1, "every member got the directive"
    return sum(count - 1 for count in counts.values())


async def test_kill_9_mid_broadcast_then_restart(fresh_url: str, tmp_path: Path) -> None:
    async with BotApiEmulator(limits=LimitSettings(enabled=True)) as emulator:
        chat_ids = await _broadcast(emulator, fresh_url)
        config = _write_config(tmp_path / "config.toml", emulator, fresh_url)
        await _stop_halfway(config, emulator, chat_ids, signal.SIGKILL)
        duplicates = await _restart_until_everyone_has_it(config, emulator, chat_ids, fresh_url)
        assert duplicates <= MAX_IN_FLIGHT, f"{duplicates} duplicates"


async def test_sigterm_mid_broadcast_then_restart_repeats_nothing(
    fresh_url: str, tmp_path: Path
) -> None:
    """A supervisor's restart: the calls under way at SIGTERM are answered and recorded before
    the HTTP session closes. Telegram's answers take 0.2–0.6 s here, so at the signal there
    are always calls the emulator has delivered and not yet answered."""
    limits = LimitSettings(enabled=True, latency_min=0.2, latency_max=0.6)
    async with BotApiEmulator(limits=limits) as emulator:
        chat_ids = await _broadcast(emulator, fresh_url)
        config = _write_config(tmp_path / "config.toml", emulator, fresh_url)
        assert await _stop_halfway(config, emulator, chat_ids, signal.SIGTERM) == 0
        duplicates = await _restart_until_everyone_has_it(config, emulator, chat_ids, fresh_url)
        assert duplicates == 0, f"{duplicates} duplicates after a clean stop"
