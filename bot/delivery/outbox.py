"""The outbox sender: the one place that delivers notifications to Telegram.

It claims due rows from the ``outbox`` table, paces them under the overall and per-chat
limits, and records each outcome: sent (with the Telegram message id), retried later
(429 waits ``retry_after`` and never drops; network errors and 5xx back off), failed with
the reason (400: the recipient's coordinators are told through ``on_rejected``), or — on
403 — the member is marked unreachable and their coordinator told.
Rows claimed by a process that died return to the queue when their lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, BotCommand, BotCommandScope, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.core.clock import Clock
from bot.core.config import OutboxConfig
from bot.delivery.pacing import ChatSpacing, Pacer
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from storage.repositories.outbox import OutboxRepository

log = logging.getLogger(__name__)

# Called in the sender's transaction for a member Telegram will not deliver to (id, reason).
UndeliverableHook = Callable[[AsyncSession, int, str], Awaitable[object]]
# Called in the same transaction for a message Telegram refused with 400 (member id, reason,
# outbox row id), after the row is marked failed; the hook decides whom to tell, and how often.
RejectedHook = Callable[[AsyncSession, int, str, int], Awaitable[object]]

LEASE = timedelta(seconds=6)  # renewed every LEASE/3 while held; a dead sender's rows return
MAX_BAN_HELD = 120.0  # a ban longer than this sends the row back to the table
HOLD_IN_MEMORY = 2.0  # rows whose chat is busy for longer go back to the table
EDIT_WAIT = timedelta(seconds=1)
BUSY_RETRY = 0.02
STOP_WAIT = 10.0  # seconds a stop waits for calls under way before cutting them off


BOT_METHODS = {
    "sendMessage": "send_message",
    "sendPhoto": "send_photo",
    "sendDocument": "send_document",
    "editMessageText": "edit_message_text",
    "editMessageReplyMarkup": "edit_message_reply_markup",
    "setMyCommands": "set_my_commands",
}


def typed_kwargs(payload: dict[str, Any], bot: Bot) -> dict[str, Any]:
    """Turn a stored JSON payload back into the objects python-telegram-bot expects."""
    kwargs = dict(payload)
    if "reply_markup" in kwargs:
        kwargs["reply_markup"] = InlineKeyboardMarkup.de_json(kwargs["reply_markup"], bot)
    if "commands" in kwargs:
        kwargs["commands"] = [
            BotCommand(c["command"], c["description"]) for c in kwargs["commands"]
        ]
    if "scope" in kwargs:
        kwargs["scope"] = BotCommandScope.de_json(kwargs["scope"], bot)
    return kwargs


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass(order=True)
class _Ready:
    at: float
    priority: int
    id: int
    row: OutboxMessage = field(compare=False)


class OutboxSender:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        clock: Clock,
        settings: OutboxConfig,
        pacer: Pacer,
        spacing: ChatSpacing,
        on_undeliverable: UndeliverableHook,
        on_rejected: RejectedHook | None = None,
    ) -> None:
        self.db = db
        self.on_undeliverable = on_undeliverable
        self.on_rejected = on_rejected
        self.bot = bot
        self.clock = clock
        self.settings = settings
        self.pacer = pacer
        self.spacing = spacing
        self._ready: list[_Ready] = []
        self._changes: list[dict[str, Any]] = []
        self._unreachable: list[tuple[int, str]] = []
        self._rejected: list[tuple[int, str, int]] = []
        self._slots = asyncio.Semaphore(settings.max_in_flight)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._rows = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._lease_task: asyncio.Task[None] | None = None
        self._flying: set[int] = set()  # ids of rows whose API call is under way
        self._busy_chats: set[int] = set()  # chats with a call under way
        self.sent = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        async with self.db.session() as session:
            released = await OutboxRepository(session).release_expired_leases(self.clock.now())
        if released:
            log.warning("outbox: %d messages were in flight when the last run stopped", released)
        # Claiming, dispatching and recording run side by side, so database work never
        # holds up the next send.
        self._loops = [
            asyncio.create_task(self._dispatch_loop(), name="outbox-dispatch"),
            asyncio.create_task(self._feed_loop(), name="outbox-feed"),
            asyncio.create_task(self._record_loop(), name="outbox-record"),
        ]
        self._lease_task = asyncio.create_task(self._keep_leases(), name="outbox-leases")

    async def stop(self) -> None:
        """Stop claiming and sending; let the calls under way finish (at most ``STOP_WAIT``)
        and record their outcomes; give back the rows claimed but not sent. Called while the
        bot's HTTP session is still open, so a restart neither loses nor repeats a message."""
        self._stopping.set()
        self._wake.set()
        self._rows.set()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self._in_flight:
            _, late = await asyncio.wait(set(self._in_flight), timeout=STOP_WAIT)
            for task in late:  # Telegram may have taken these: their leases decide
                task.cancel()
            if late:
                log.warning("outbox: %d calls still under way at stop were cut off", len(late))
            await asyncio.gather(*late, return_exceptions=True)
        if self._lease_task is not None:
            self._lease_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lease_task
        for ready in self._ready:  # claimed but not sent: give them back now, not at lease end
            self._changes.append(
                {"id": ready.id, "status": OutboxStatus.PENDING, "lease_until": None}
            )
        self._ready.clear()
        await self._flush()

    async def _unless_stopped(self, waiting: Awaitable[object]) -> bool:
        """Await ``waiting`` (a token, a slot) unless the sender stops first; True if it came."""
        wanted = asyncio.ensure_future(waiting)
        stopped = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait((wanted, stopped), return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if wanted.done():
            wanted.result()
            return True
        wanted.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await wanted
        return False

    def wake(self) -> None:
        """New rows were committed: look now instead of at the next poll."""
        self._wake.set()

    async def _keep_leases(self) -> None:
        """Renew the leases of rows this sender holds; free rows whose sender died."""
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            held = [ready.id for ready in self._ready] + list(self._flying)
            try:
                async with self.db.session() as session:
                    repo = OutboxRepository(session)
                    now = self.clock.now()
                    await repo.renew_leases(held, now + LEASE)
                    released = await repo.release_expired_leases(now)
                if released:
                    log.warning("outbox: took back %d messages from a stopped sender", released)
                    self.wake()
            except Exception:  # the next round tries again; the loop must not die
                log.exception("outbox: lease upkeep failed")

    # -- the three loops -------------------------------------------------------------------
    async def _feed_loop(self) -> None:
        """Keep about two seconds' worth of due rows claimed and ready."""
        while not self._stopping.is_set():
            try:
                if len(self._ready) < self._low_water() and await self._claim():
                    self._rows.set()
                    continue
                await self._wait(self._wake, self.settings.poll_interval)
            except Exception:  # a database hiccup: try again shortly
                log.exception("outbox: claiming failed")
                await self._wait(self._wake, 1.0)

    async def _record_loop(self) -> None:
        """Write outcomes in batches, every 50 ms."""
        while not self._stopping.is_set():
            await asyncio.sleep(0.05)
            try:
                await self._flush()
            except Exception:  # kept in memory and written on the next round
                log.exception("outbox: recording outcomes failed")

    async def _dispatch_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                if not self._ready:
                    await self._wait(self._rows, self.settings.poll_interval)
                    continue
                head = self._ready[0]
                now = time.monotonic()
                if head.at > now:
                    await self._wait(self._rows, min(head.at - now, self.settings.poll_interval))
                    continue
                free_at = self.spacing.free_at(head.row.chat_id)
                if free_at > now:  # the chat had a message too recently: wait for its slot
                    head.at = free_at
                    heapq.heapreplace(self._ready, head)
                    continue
                if head.row.chat_id in self._busy_chats:  # one call per chat at a time keeps
                    head.at = now + BUSY_RETRY  # each chat's messages in order
                    heapq.heapreplace(self._ready, head)
                    continue
                heapq.heappop(self._ready)
                if len(self._ready) < self._low_water():
                    self._wake.set()
                bans_before = self.pacer.bans
                if not await self._unless_stopped(self.pacer.acquire()):
                    heapq.heappush(self._ready, head)  # given back by stop()
                    break
                if self.pacer.bans != bans_before:  # banned while waiting: line up with the
                    head.at = self.pacer.banned_until  # rows held back by the ban, in id order
                    heapq.heappush(self._ready, head)
                    continue
                self.spacing.reserve(head.row.chat_id)
                if not await self._unless_stopped(self._slots.acquire()):
                    heapq.heappush(self._ready, head)
                    break
                self._flying.add(head.id)
                self._busy_chats.add(head.row.chat_id)
                task = asyncio.create_task(self._deliver(head.row))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            except Exception:  # keep sending whatever one bad row did
                log.exception("outbox: dispatch error")
                await asyncio.sleep(1.0)

    def _low_water(self) -> int:
        return max(10, int(self.settings.rate_per_second))

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> None:
        event.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    async def _claim(self) -> int:
        """Claim a batch of due rows into the ready heap; returns how many were claimed."""
        limit = max(20, int(self.settings.rate_per_second * 2))
        async with self.db.session() as session:
            repo = OutboxRepository(session)
            rows = await repo.claim_due(self.clock.now(), limit, LEASE)
            if not rows:
                return 0
            deferred = await self._resolve_edits(repo, rows)
        now = time.monotonic()
        for row in rows:
            if row.id in deferred:
                continue
            at = max(now, self.spacing.free_at(row.chat_id), self.pacer.banned_until)
            if at - now > HOLD_IN_MEMORY and at != self.pacer.banned_until:
                self._changes.append(self._later(row, at - now, count_attempt=False))
                continue
            heapq.heappush(self._ready, _Ready(at, row.priority, row.id, row))
        return len(rows)

    async def _resolve_edits(self, repo: OutboxRepository, rows: list[OutboxMessage]) -> set[int]:
        """Give edits the message id of what they edit; hold those whose original is unsent."""
        deferred: set[int] = set()
        edits = [r for r in rows if r.edit_of_id is not None and "message_id" not in r.payload]
        originals = await repo.get_many([r.edit_of_id for r in edits if r.edit_of_id])
        for row in edits:
            original = originals.get(row.edit_of_id or 0)
            if original is not None and original.telegram_message_id is not None:
                row.payload = {**row.payload, "message_id": original.telegram_message_id}
                continue
            deferred.add(row.id)
            if original is None or original.status in (
                OutboxStatus.FAILED,
                OutboxStatus.CANCELLED,
            ):
                self._changes.append(
                    {
                        "id": row.id,
                        "status": OutboxStatus.CANCELLED,
                        "lease_until": None,
                        "last_error": "original not sent",
                    }
                )
            else:
                self._changes.append(
                    {
                        "id": row.id,
                        "status": OutboxStatus.PENDING,
                        "lease_until": None,
                        "not_before": self.clock.now() + EDIT_WAIT,
                    }
                )
        return deferred

    # -- one delivery ----------------------------------------------------------------------
    async def _deliver(self, row: OutboxMessage) -> None:
        try:
            result = await self._call(row)
        except RetryAfter as exc:
            self._banned(row, retry_after_seconds(exc))
        except Forbidden as exc:
            self._changes.append(self._failed(row, f"403 {exc.message}"))
            if row.member_id is not None:
                self._unreachable.append((row.member_id, exc.message))
        except BadRequest as exc:
            if "message is not modified" in exc.message:
                self._changes.append(self._done(row, row.payload.get("message_id")))
            else:
                self._changes.append(self._failed(row, f"400 {exc.message}"))
                if row.member_id is not None and self.on_rejected is not None:
                    self._rejected.append((row.member_id, exc.message, row.id))
        except (NetworkError, TelegramError) as exc:  # timeouts, 5xx, connection errors
            if row.attempts + 1 >= self.settings.max_attempts:
                self._changes.append(self._failed(row, f"gave up: {exc}"))
            else:
                backoff = min(
                    self.settings.backoff_max, self.settings.backoff_base * 2**row.attempts
                )
                self._changes.append(self._later(row, backoff, error=str(exc)))
        except Exception as exc:  # a bug must not lose the row: keep it for a later try
            log.exception("outbox: unexpected error on row %d", row.id)
            self._changes.append(self._later(row, self.settings.backoff_max, error=repr(exc)))
        else:
            message_id = result.message_id if isinstance(result, Message) else None
            self._changes.append(self._done(row, message_id))
            self.sent += 1
        finally:
            self._flying.discard(row.id)
            self._busy_chats.discard(row.chat_id)
            self._slots.release()

    def _banned(self, row: OutboxMessage, seconds: float) -> None:
        """429: pause everything for ``seconds``, then resume in the original order."""
        log.warning(
            "outbox: flood ban of %.0fs (row %d); sending resumes after it", seconds, row.id
        )
        self.pacer.ban(seconds)
        if seconds > MAX_BAN_HELD:  # too long to hold: back to the table
            self._changes.append(self._later(row, seconds, count_attempt=False))
            return
        until = self.pacer.banned_until  # the same instant for every held row: ids keep order
        for ready in self._ready:
            ready.at = max(ready.at, until)
        self._ready.append(_Ready(until, row.priority, row.id, row))
        heapq.heapify(self._ready)

    async def _call(self, row: OutboxMessage) -> Any:
        """Make the row's Bot API call through the typed method, marked as already paced."""
        name = BOT_METHODS.get(row.method)
        if name is None:
            raise BadRequest(f"unsupported outbox method {row.method}")
        kwargs = typed_kwargs(row.payload, self.bot)
        if isinstance(self.bot, ExtBot):
            kwargs["rate_limit_args"] = {"paced": True}
        return await getattr(self.bot, name)(**kwargs)

    def _done(self, row: OutboxMessage, message_id: int | None) -> dict[str, Any]:
        return {
            "id": row.id,
            "status": OutboxStatus.SENT,
            "sent_at": self.clock.now(),
            "telegram_message_id": message_id,
            "lease_until": None,
            "attempts": row.attempts + 1,
        }

    def _failed(self, row: OutboxMessage, reason: str) -> dict[str, Any]:
        return {
            "id": row.id,
            "status": OutboxStatus.FAILED,
            "last_error": reason[:1000],
            "lease_until": None,
            "attempts": row.attempts + 1,
        }

    def _later(
        self,
        row: OutboxMessage,
        seconds: float,
        *,
        count_attempt: bool = True,
        error: str | None = None,
    ) -> dict[str, Any]:
        change: dict[str, Any] = {
            "id": row.id,
            "status": OutboxStatus.PENDING,
            "lease_until": None,
            "not_before": self.clock.now() + timedelta(seconds=seconds),
            "attempts": row.attempts + (1 if count_attempt else 0),
        }
        if error is not None:
            change["last_error"] = error[:1000]
        return change

    async def _flush(self) -> None:
        """Write the outcomes gathered since the last flush in one transaction."""
        if not self._changes and not self._unreachable and not self._rejected:
            return
        changes, self._changes = self._changes, []
        unreachable, self._unreachable = self._unreachable, []
        rejected, self._rejected = self._rejected, []
        try:
            try:
                await self._write(changes, unreachable, rejected)
            except Exception:
                if not rejected:
                    raise
                # A failing notice must not hold up every outcome behind it: record them
                # without the notices (logged here) rather than retry the same failure forever.
                log.exception("outbox: telling coordinators of refused messages failed")
                await self._write(changes, unreachable, [])
        except Exception:
            self._changes[:0] = changes
            self._unreachable[:0] = unreachable
            raise
        if unreachable or rejected:
            self.wake()

    async def _write(
        self,
        changes: list[dict[str, Any]],
        unreachable: list[tuple[int, str]],
        rejected: list[tuple[int, str, int]],
    ) -> None:
        async with self.db.session() as session:
            await OutboxRepository(session).apply(changes)
            for member_id, reason in unreachable:
                await self.on_undeliverable(session, member_id, reason)
            if self.on_rejected is not None:
                for member_id, reason, row_id in rejected:
                    await self.on_rejected(session, member_id, reason, row_id)
