"""Confirmation taps queued and decided in batches, one transaction per batch.

Handlers submit a tap and await its result; one worker drains whatever has queued up while the
previous batch was being written. Under light load a batch is a single tap.

Each tap's outcome is its own: a tap whose ids cannot exist (beyond the database column) is
answered at once and never joins a batch, and when a batch fails anyway, its taps are decided
again one by one, so only the tap that caused the failure gets the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.core.parsing import MAX_ID, MAX_TELEGRAM_ID
from bot.services.confirmations import Tap, TapResult, confirm_taps
from bot.services.directives import Confirmed, ConfirmResult
from storage.db import Database

log = logging.getLogger(__name__)

Item = tuple[Tap, "asyncio.Future[TapResult]"]
IMPOSSIBLE = TapResult(ConfirmResult(Confirmed.NOT_FOUND), None, None, None)


def possible(tap: Tap) -> bool:
    """Whether every id of the tap fits its column (a forged button may carry any number)."""
    return (
        1 <= tap.directive_id <= MAX_ID
        and 1 <= tap.version <= MAX_ID
        and 1 <= tap.telegram_user_id <= MAX_TELEGRAM_ID
    )


class TapQueue:
    def __init__(self, db: Database, clock: Clock, tz: ZoneInfo, max_batch: int = 500) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.max_batch = max_batch
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0
        self.retried = 0  # batches that failed whole and were decided tap by tap

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="tap-queue")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def submit(self, tap: Tap) -> TapResult:
        if not possible(tap):
            return IMPOSSIBLE
        future: asyncio.Future[TapResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((tap, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._decide(batch)
            except Exception:  # never let the worker die: later taps would wait for ever
                log.exception("the tap queue failed to answer %d taps", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(RuntimeError("tap not decided"))

    async def _decide(self, batch: list[Item]) -> None:
        try:
            results = await self._confirm([tap for tap, _ in batch])
        except Exception as error:
            if len(batch) == 1:
                log.exception("confirming a tap failed")
                _fail(batch[0][1], error)
                return
            # One tap (or a moment's fault) must not cost the others their confirmation.
            log.warning("confirming %d taps together failed; deciding each", len(batch))
            self.retried += 1
            for item in batch:
                await self._decide([item])
            return
        self.batches += 1
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _confirm(self, taps: list[Tap]) -> list[TapResult]:
        async with self.db.session() as session:
            return await confirm_taps(session, self.clock, taps, self.tz)


def _fail(future: asyncio.Future[TapResult], error: Exception) -> None:
    """The waiting handler raises ``error``; the error handler tells its member it was not
    saved (the session rolled back)."""
    if not future.done():
        future.set_exception(error)
