"""The scheduler against a real database that commits: restarts, two processes, failing jobs."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.core.clock import ManualClock
from bot.core.config import Config, RemindersConfig
from bot.scheduler import Job, Scheduler
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.repositories.reminders import TASK_DUTIES, ReminderRepository
from tests.bot.test_reminders import World

DAY = timedelta(days=1)


@pytest.fixture
async def world(fresh_url: str, clock: ManualClock):
    db = Database(fresh_url)
    await upgrade(db.engine)
    async with db.session() as session:
        built = World(session, clock)
        await built.build()
    yield db, built
    await db.dispose()


async def _outbox(db: Database) -> Counter[int]:
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxMessage.member_id, func.count()).group_by(OutboxMessage.member_id)
        )
        return Counter({member_id: count for member_id, count in rows})


def _scheduler(db: Database, clock: ManualClock, woke: asyncio.Event | None = None) -> Scheduler:
    config = replace(Config(), reminders=RemindersConfig())
    return Scheduler(db, clock, config, (woke or asyncio.Event()).set)


async def test_a_restart_sends_nothing_twice(world, clock: ManualClock) -> None:
    db, w = world
    clock.set(w.deadline + timedelta(hours=3))
    before = await _outbox(db)
    report = await _scheduler(db, clock).run("reminders")
    assert (report.overdue, report.escalations) == (3, 3)
    after_first = await _outbox(db)
    await db.dispose()

    restarted = Database(db.url)  # a new process: new engine, nothing in memory
    assert not await _scheduler(restarted, clock).run("reminders")
    clock.advance(timedelta(minutes=30))
    assert not await _scheduler(restarted, clock).run("reminders")
    assert await _outbox(restarted) == after_first != before
    await restarted.dispose()


async def test_two_processes_claim_each_reminder_once(world, clock: ManualClock) -> None:
    db, w = world
    other = Database(db.url)
    point = w.deadline - 3 * DAY
    clock.set(point)
    async with other.session() as session:  # the other process sees the same units due …
        seen = await ReminderRepository(session).due_for_reminder(
            TASK_DUTIES, w.task_id, point, point
        )
    assert len(seen) == 3
    first = await _scheduler(db, clock).run("reminders")  # … this one sends and commits …
    assert first.reminders == 3
    async with other.session() as session:  # … and the other's claim comes back empty
        claimed = await ReminderRepository(session).stamp_reminder(
            TASK_DUTIES, w.task_id, [d.unit_id for d in seen], point, point
        )
    assert claimed == set()

    clock.set(w.deadline + timedelta(hours=2))
    results = await asyncio.gather(
        _scheduler(db, clock).run("reminders"), _scheduler(other, clock).run("reminders")
    )
    # On SQLite the loser may fail its write and roll back; either way each unit hears once.
    assert sum(r.overdue for r in results if r) == 3
    assert sum(r.escalations for r in results if r) == 3
    received = await _outbox(db)
    assert received[w.tb.id] == 1 + 1 + 1  # assignment, 3-day reminder, overdue notice
    assert received[w.district.id] == 1
    await other.dispose()


async def test_a_failing_job_does_not_stop_the_others(
    world, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    db, w = world

    async def broken(session, now):
        raise RuntimeError("boom")

    scheduler = _scheduler(db, clock)
    scheduler.jobs["broken"] = Job("broken", timedelta(seconds=30), broken)
    clock.set(w.deadline - 3 * DAY)
    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        assert await scheduler.run("broken") is None
    assert "job broken failed" in caplog.text
    assert (await scheduler.run("reminders")).reminders == 3


async def test_starting_catches_up_at_once_without_waiting_for_the_interval(
    world, clock: ManualClock
) -> None:
    db, w = world
    clock.set(w.deadline + DAY)  # the bot was down through the deadline
    woke = asyncio.Event()
    scheduler = _scheduler(db, clock, woke)
    scheduler.start()

    async def overdue_notice_sent() -> Counter[int]:
        while (received := await _outbox(db))[w.tb.id] < 2:
            await woke.wait()  # each job that queued something wakes the sender (and us)
            woke.clear()
        return received

    try:
        received = await asyncio.wait_for(overdue_notice_sent(), timeout=30)  # a busy machine
    finally:
        await scheduler.stop()
    assert received[w.tb.id] == 2  # the assignment and one overdue notice, not one per day
    assert (await _outbox(db))[w.tb.id] == 2  # and nothing more for them after it
