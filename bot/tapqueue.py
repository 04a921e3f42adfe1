"""Confirmation taps queued and decided in batches, one transaction per batch.

Handlers submit a tap and await its result; one worker drains whatever has queued up while the
previous batch was being written. Under light load a batch is a single tap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.services.confirmations import Tap, TapResult, confirm_taps
from storage.db import Database

log = logging.getLogger(__name__)

Item = tuple[Tap, "asyncio.Future[TapResult]"]


class TapQueue:
    def __init__(self, db: Database, clock: Clock, tz: ZoneInfo, max_batch: int = 500) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.max_batch = max_batch
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="tap-queue")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def submit(self, tap: Tap) -> TapResult:
        future: asyncio.Future[TapResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((tap, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                async with self.db.session() as session:
                    results = await confirm_taps(
                        session, self.clock, [t for t, _ in batch], self.tz
                    )
            except Exception as error:  # each waiting handler reports it to its member
                log.exception("confirming %d taps failed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.batches += 1
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
