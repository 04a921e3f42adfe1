"""End-to-end: the real Application, started as ``fieldbot run`` starts it, against the
in-repo Bot API emulator over HTTP, with a real database of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from bot.core.clock import ShiftedClock
from bot.core.config import Config, OnboardingConfig, RemindersConfig
from bot.emulator import BotApiEmulator, LimitSettings, Person
from bot.emulator.config import config_for_emulator
from bot.runner import serve
from bot.services import onboarding
from bot.services.authz import Actor
from bot.services.units import import_units
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Role
from tests.factories import TREE


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
        await asyncio.wait_for(self._serving, 20)
        self.config = config or self.config
        self._stop, started = asyncio.Event(), asyncio.Event()
        self._serving = asyncio.create_task(
            serve(self.config, self._stop, clock=self.clock, started=started)
        )
        await asyncio.wait_for(started.wait(), 20)

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

    async def settle(self, quiet_for: float = 0.3, within: float = 10.0) -> None:
        """Wait until the outbox is drained and nothing new arrives for ``quiet_for`` seconds."""
        from storage.repositories.outbox import OutboxRepository

        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            async with self.db.session() as session:
                counts = await OutboxRepository(session).count_by_status()
            if not counts.get("pending") and not counts.get("sending"):
                before = sum(self.emulator.calls.values())
                await asyncio.sleep(quiet_for)
                if sum(self.emulator.calls.values()) - before <= 1:  # only getUpdates polls
                    return
            else:
                await asyncio.sleep(0.05)
        raise AssertionError("the outbox did not drain in time")


QUIET_OFF = RemindersConfig().quiet_end
FAST_CHATS = LimitSettings(enabled=True, chat_rate=20.0)  # the real 1/s is tested on its own


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
    emu = BotApiEmulator(limits=FAST_CHATS)
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
        await asyncio.wait_for(started.wait(), 20)
        yield bot_env
    finally:
        bot_env._stop.set()
        await asyncio.wait_for(bot_env._serving, 20)
        await db.dispose()
