"""The one place that adds jobs.

APScheduler only says "now": every job is a short sweep that reads what is due from the
database, writes to the outbox and stamps what it sent. So APScheduler's in-memory job list
holds nothing worth keeping, a restart loses nothing, and a missed run is simply caught up
by the next one. Each job runs through ``Scheduler.run``: its own session, a log line, and
errors isolated so that one failing sweep never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Config
from bot.services import digests, reminders
from storage.db import Database

log = logging.getLogger(__name__)

JobBody = Callable[[AsyncSession, datetime], Awaitable[Any]]
DIGEST_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    body: JobBody


class Scheduler:
    def __init__(
        self, db: Database, clock: Clock, config: Config, wake: Callable[[], None]
    ) -> None:
        self.db = db
        self.clock = clock
        self.wake = wake
        settings, tz = config.reminders, config.tz
        self.jobs = {
            job.name: job
            for job in (
                Job(
                    "reminders",
                    settings.sweep_interval,
                    lambda session, now: reminders.sweep(session, now, settings, tz),
                ),
                Job(
                    "digests",
                    DIGEST_EVERY,
                    lambda session, now: digests.send_digests(session, now, settings, tz),
                ),
            )
        }
        self.enabled = settings.enabled
        self._aps: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        """Run every job now (catching up on any downtime) and then at its interval."""
        if not self.enabled:
            log.info("the scheduler is disabled in this process ([reminders] enabled = false)")
            return
        self._aps = AsyncIOScheduler(timezone=UTC, event_loop=asyncio.get_running_loop())
        for job in self.jobs.values():
            self._aps.add_job(
                self.run,
                IntervalTrigger(seconds=job.every.total_seconds(), timezone=UTC),
                args=[job.name],
                id=job.name,
                name=job.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                next_run_time=datetime.now(UTC),
            )
        self._aps.start()

    async def stop(self) -> None:
        """No new runs; the ones under way finish their transaction before this returns."""
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def run(self, name: str) -> Any:
        """Run one job now, in its own transaction; returns its result, or None if it failed."""
        job = self.jobs[name]
        now = self.clock.now()
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        try:
            async with self.db.session() as session:
                result = await job.body(session, now)
        except Exception:
            log.exception("job %s failed; the next run will try again", name)
            return None
        if result:
            log.info("job %s at %s: %s", name, now.isoformat(timespec="seconds"), result)
            self.wake()
        return result
