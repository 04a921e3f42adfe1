"""End-to-end: the real Application, started as ``fieldbot run`` starts it, against the
in-repo Bot API emulator over HTTP, with a real database of its own.

Every wait here is for an event (a message, an edit, a row, a log record), never for a fixed
time; the timeouts are generous because a passing test never waits them out, and the suite
runs beside other work on two cores. ``FIELDBOT_E2E_LATENCY=0.3`` gives every Bot API call a
random latency up to that many seconds, so replies and notifications arrive in shuffled
orders: a test that reads before the bot has settled then fails often instead of now and
then (``FIELDBOT_E2E_SEED`` repeats one run's draw; pytest's header shows it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.core.clock import ShiftedClock
from bot.core.config import Config, OnboardingConfig, RemindersConfig
from bot.emulator import BotApiEmulator, LimitSettings, Person
from bot.emulator.config import config_for_emulator
from bot.emulator.world import SimMessage
from bot.runner import serve
from bot.services import onboarding
from bot.services.authz import Actor
from bot.services.units import import_units
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage, OutboxStatus, Role
from tests.conftest import assert_counts_kept
from tests.factories import TREE

WAIT = 30.0  # seconds: only a failing test waits this long
# A row due later than this is held (for the morning, or a minute after the last routine
# message to its chat), not in flight: settling does not wait for it. A retry after a 429 or
# a back-off is due within seconds, and is waited for.
HELD = timedelta(seconds=20)


@dataclass
class BotEnv:
    emulator: BotApiEmulator
    config: Config
    db: Database
    clock: ShiftedClock
    _stop: asyncio.Event
    _serving: asyncio.Task[None]

    async def restart(self, config: Config | None = None) -> None:
        """Stop the bot and start it again (a new process, as after a crash or a deploy)."""
        self._stop.set()
        await asyncio.wait_for(self._serving, WAIT)
        self.config = config or self.config
        self._stop, started = asyncio.Event(), asyncio.Event()
        self._serving = asyncio.create_task(
            serve(self.config, self._stop, clock=self.clock, started=started)
        )
        await asyncio.wait_for(started.wait(), WAIT)

    def person(self, first: str, last: str | None = None, username: str | None = None) -> Person:
        return self.emulator.person(first, last, username)

    async def invite(
        self,
        unit: str,
        role: Role = Role.OFFICER,
        *,
        uses: int = 1,
        auto: bool = False,
        ttl: timedelta = timedelta(days=7),
    ) -> str:
        async with self.db.session() as session:
            created = await onboarding.create_invitation(
                session,
                self.clock,
                Actor.system(),
                unit,
                role,
                uses=uses,
                ttl=ttl,
                auto_approve=auto,
            )
        return created.code

    async def member(
        self, first: str, unit: str, role: Role = Role.OFFICER, last: str | None = None
    ) -> Person:
        """A person registered through an auto-approve invitation, with their inbox read."""
        person = self.person(first, last)
        code = await self.invite(unit, role, auto=True)
        reply = await person.ask(f"/start {code}")
        assert "Chào mừng" in reply.body, reply.body
        await self.settle()
        person.read_all()
        return person

    async def settle(self, within: float = WAIT) -> None:
        """Wait until the bot has fetched every update sent so far and the outbox holds nothing
        due or in flight: every notification already due has reached its chat.

        Handlers commit their notifications before they answer, so after an answer or a reply
        has been seen, this is the point from which the absence of a message means something.
        """
        try:
            async with asyncio.timeout(within):
                while not await self._settled():  # noqa: ASYNC110 - a database has no event
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(f"the bot did not settle within {within}s") from None

    async def _settled(self) -> bool:
        if self.emulator.world.updates:  # still waiting for the bot to fetch them
            return False
        async with self.db.session() as session:
            unsent = await session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    (OutboxMessage.status == OutboxStatus.SENDING)
                    | (
                        (OutboxMessage.status == OutboxStatus.PENDING)
                        & (OutboxMessage.not_before <= self.clock.now() + HELD)
                    )
                )
            )
        return not unsent

    async def until(self, condition: Callable[[], bool], within: float = WAIT) -> None:
        """Wait until ``condition`` (about what people's phones show) holds."""
        world = self.emulator.world
        try:
            async with asyncio.timeout(within), world.changed:
                await world.changed.wait_for(condition)
        except TimeoutError:
            raise AssertionError(f"still not so after {within}s") from None

    async def expect(self, person: Person, text: str, within: float = WAIT) -> SimMessage:
        """The next message ``person`` has not read yet, which must contain ``text``."""
        message = await person.next_message(within)
        assert text in message.body, f"{person.name} expected {text!r}, got {message.body!r}"
        return message


class JobRuns(logging.Handler):
    """The scheduler's runs, heard as APScheduler logs each one that has finished.

    A sweep that finds nothing to send leaves no trace in the database or the chats, so this is
    the event that says "the scheduler has looked" before a test asserts that nothing came.
    """

    LOGGER = "apscheduler.executors.default"

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.finished: list[str] = []
        self._changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "executed successfully" in message:  # 'Job "reminders (trigger: ...)" executed ...'
            self.finished.append(message.split('"')[1].split(" ")[0])
            self._loop.call_soon_threadsafe(self._changed.set)

    async def wait_for(self, job: str, count: int = 1, within: float = WAIT) -> None:
        """Until ``job`` has finished ``count`` times since watching began."""
        try:
            async with asyncio.timeout(within):
                while self.finished.count(job) < count:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"job {job} ran {self.finished.count(job)} times") from None


@contextmanager
def job_runs() -> Iterator[JobRuns]:
    """Listen to the scheduler's finished runs while the block runs."""
    logger = logging.getLogger(JobRuns.LOGGER)
    runs, level = JobRuns(), logger.level
    logger.addHandler(runs)
    logger.setLevel(logging.INFO)
    try:
        yield runs
    finally:
        logger.removeHandler(runs)
        logger.setLevel(level)


QUIET_OFF = RemindersConfig().quiet_end
LATENCY = float(os.environ.get("FIELDBOT_E2E_LATENCY") or 0.0)  # see the module's docstring
# Each test draws its latencies from this seed; a new one each run unless one is given.
SEED = int(os.environ.get("FIELDBOT_E2E_SEED") or random.randrange(2**32))
FAST_CHATS = LimitSettings(  # the real 1/s per chat is tested on its own
    enabled=True, chat_rate=20.0, latency_min=0.0, latency_max=LATENCY
)


def pytest_report_header() -> str | None:
    return f"e2e: latency up to {LATENCY}s, FIELDBOT_E2E_SEED={SEED}" if LATENCY else None


def e2e_config(emulator: BotApiEmulator, url: str, **outbox: object) -> Config:
    """Fast per-chat pacing and retries, so the tests spend their time on behaviour."""
    options: dict[str, object] = {
        "poll_interval": 0.05,
        "per_chat_interval": 0.06,
        "backoff_base": 0.2,
        **outbox,
    }
    config = config_for_emulator(
        emulator.base_url, emulator.token, url, request_timeout=2.0, **options
    )
    return replace(
        config,
        onboarding=OnboardingConfig(max_attempts=5, attempt_window=timedelta(minutes=10)),
        # Tests run the sweeps themselves, in step with the clock they move; and the wall
        # clock's hour must not decide whether a directive waits for the morning.
        reminders=RemindersConfig(enabled=False, quiet_start=QUIET_OFF, quiet_end=QUIET_OFF),
    )


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator(limits=FAST_CHATS, seed=SEED)
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
async def env(emulator: BotApiEmulator, fresh_url: str) -> AsyncIterator[BotEnv]:
    clock = ShiftedClock()
    emulator.world.clock = lambda: clock.now().timestamp()  # phones and bot share the time
    config = e2e_config(emulator, fresh_url)
    db = Database(fresh_url)
    await upgrade(db.engine)
    async with db.session() as session:
        await import_units(session, clock, Actor.system(), TREE.encode())
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(config, stop, clock=clock, started=started))
    bot_env = BotEnv(emulator, config, db, clock, stop, task)
    try:
        await asyncio.wait_for(started.wait(), WAIT)
        yield bot_env
    finally:
        bot_env._stop.set()
        await asyncio.wait_for(bot_env._serving, WAIT)
        async with db.session() as session:
            await assert_counts_kept(session)
        await db.dispose()
