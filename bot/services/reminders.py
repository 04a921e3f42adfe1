"""The scheduler's reminder sweep: before deadlines, when overdue, unconfirmed directives,
and escalation of lateness up the tree.

A sweep reads what is due from the database, stamps what it claimed and writes to the outbox,
all in the caller's transaction. Only the latest due point counts, so a sweep after hours of
downtime sends one message per person, not one per missed sweep; a stamp moves only forward,
so a restart or a second process sends nothing twice.

What people live with:
- one message per person per sweep (``Mailbox``), the morning after quiet hours included;
- a reminder point that falls in quiet hours moves to the last sweep before they begin, so
  it is never sent after the deadline; points that had passed before the task reached its
  units (held for the morning) are not sent at all;
- an overdue notice is not repeated the same local day;
- a directive is re-reminded every ``directive_every`` after it reached its units (after
  quiet hours, for one written at night) or after the last re-reminder; a Hỏa tốc one every
  ``flash_remind_every``, at night too;
- nothing but Hỏa tốc directives moves in quiet hours.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import callbacks
from bot.core.config import ConfigError, RemindersConfig, reminders_for_plan
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services import escalation
from bot.services.directive_text import level_label, urgency_of
from bot.services.directives import Urgency, directive_text, send_copies, unit_ref
from bot.services.mailbox import Entry, Mailbox
from bot.services.notify import Button, Notifier, Priority
from bot.services.quiet import QuietHours
from bot.services.reminder_text import duty_status, time_late, time_left
from storage.models import Directive, TaskState
from storage.repositories.members import MemberRepository
from storage.repositories.reminders import (
    CHUNK,
    DIRECTIVE_DUTIES,
    TASK_DUTIES,
    Climb,
    Duty,
    OpenTask,
    ReminderRepository,
)

log = logging.getLogger(__name__)
BUDGET = 10_000  # duties one sweep may claim (well under a second; see bench/sweep.py)
TEXT = 80  # a directive's first line, as far as a list shows it
CATCH_UP = 3  # sweeps missed in a row (outside quiet hours) that make the next one a catch-up


@dataclass
class SweepReport:
    """How many units each kind of reminder reached in one sweep, and the messages queued."""

    reminders: int = 0
    overdue: int = 0
    directive_reminders: int = 0
    escalations: int = 0
    messages: int = 0
    unfinished: bool = False  # the sweep's budget ran out; the next sweep goes on

    def __bool__(self) -> bool:
        return bool(
            self.messages
            or self.reminders
            or self.overdue
            or self.directive_reminders
            or self.escalations
        )


def reminder_point(
    timing: RemindersConfig,
    quiet: QuietHours,
    deadline: datetime,
    delivered: datetime,
    now: datetime,
) -> datetime | None:
    """The latest reminder (before the deadline) or overdue notice (from it) due by ``now``.

    A point in quiet hours moves to the last sweep before they begin. Points before the
    task reached its units (``delivered``) do not count: its assignment notice said it all.
    """
    if now >= deadline:
        return deadline + timing.overdue_every * ((now - deadline) // timing.overdue_every)
    points = (quiet.before(deadline - o, timing.sweep_interval) for o in timing.task_offsets)
    return max((p for p in points if delivered < p <= now), default=None)


def directive_delivered(quiet: QuietHours, directive: Directive) -> datetime:
    """When the directive's current version reached its units."""
    written = directive.amended_at or directive.created_at
    return written if directive.urgent else quiet.delivery(written, directive.ack_by)


def plan_timing(config: RemindersConfig, settings: Mapping[str, Any]) -> RemindersConfig:
    overrides = settings.get("reminders")
    if not overrides:
        return config
    try:
        return reminders_for_plan(config, overrides)
    except ConfigError:
        log.warning("ignoring a plan's invalid reminder settings %r", overrides, exc_info=True)
        return config


def _button(lang: str, key: str, payload: Any, **params: Any) -> Button:
    return Button(t(lang, key, **params), callbacks.encode(payload))


class Sweep:
    """One pass over every open task and live directive at ``now``."""

    def __init__(
        self,
        session: AsyncSession,
        now: datetime,
        config: RemindersConfig,
        tz: ZoneInfo,
        budget: int = BUDGET,
        last_run: datetime | None = None,
    ) -> None:
        self.session = session
        self.now = now
        self.config = config
        self.tz = tz
        self.quiet = QuietHours.within(config, tz)
        self.last_run = last_run
        self.repo = ReminderRepository(session)
        self.members = MemberRepository(session)
        self.notifier = Notifier(session, now)
        self.mailbox = Mailbox()
        self.report = SweepReport()
        self.budget = escalation.Budget(budget)
        self.escalator = escalation.Escalator(session, self.mailbox, now, tz, self.budget)

    async def run(self) -> SweepReport:
        last_run = await self.repo.mark_sweep("reminders", self.now)
        if self.last_run is None:
            self.last_run = last_run
        await self.repo.settle_pauses(self.now)
        hushed = self.quiet.active(self.now)
        depth = await self.repo.max_depth()
        horizon = self.config.escalate_after + self.config.escalate_every * depth
        for directive, scope_depth in await self.repo.live_directives(self.now - horizon):
            if (directive.urgent or not hushed) and not self.budget.spent:
                await self._directive(directive, scope_depth)
        if not hushed:  # nothing about tasks is urgent enough to wake people up
            for item in await self.repo.open_tasks():
                if self.budget.spent:
                    break
                await self._task(item, plan_timing(self.config, item.settings))
        copies = self.mailbox.copies(catch_up=self._catching_up())
        priority = Priority.URGENT if hushed else Priority.BULK
        if not hushed:  # what the night held for someone goes first, this a minute after
            copies = await self.notifier.spaced(copies)
        self.report.messages += await self.notifier.texts(copies, priority=priority)
        self.report.unfinished = self.budget.spent
        self.report.escalations = self.escalator.units
        return self.report

    def _catching_up(self) -> bool:
        """The bot was down (not merely quiet) for several sweeps before this one."""
        if self.last_run is None:
            return False
        awake_since = self.quiet.release(self.last_run)
        return self.now - awake_since > self.config.sweep_interval * CATCH_UP

    # -- tasks -----------------------------------------------------------------------------
    async def _task(self, item: OpenTask, timing: RemindersConfig) -> None:
        task = item.task
        delivered = self.quiet.delivery(task.created_at, task.deadline)
        point = reminder_point(timing, self.quiet, task.deadline, delivered, self.now)
        if point is not None:
            overdue = point >= task.deadline
            async for duties in self._claim_reminders(task.id, point):
                if overdue:
                    self.report.overdue += len(duties)
                    duties = [d for d in duties if not self._told_today(d)]
                else:
                    self.report.reminders += len(duties)
                await self._task_entries(item, duties, overdue)
        climb = Climb(
            task.deadline, item.scope_depth, self.now, timing.escalate_after, timing.escalate_every
        )
        if self.now >= task.deadline + timing.escalate_after:
            await self.escalator.task(item, climb)

    def _told_today(self, duty: Duty) -> bool:
        """An overdue notice already went to this unit today (before this sweep's claim)."""
        told = duty.reminded_at
        return told is not None and told.astimezone(self.tz).date() == (
            self.now.astimezone(self.tz).date()
        )

    async def _claim_reminders(self, task_id: int, point: datetime) -> AsyncIterator[list[Duty]]:
        """Chunks of duties this process claimed the reminder at ``point`` for."""

        async def claim(duties: list[Duty]) -> set[int]:
            ids = [d.unit_id for d in duties]
            return await self.repo.stamp_reminder(TASK_DUTIES, task_id, ids, point, self.now)

        async for mine in self._claimed(
            lambda: self.repo.due_for_reminder(TASK_DUTIES, task_id, point, self.now), claim
        ):
            yield mine

    async def _claimed(
        self,
        read: Callable[[], Awaitable[list[Duty]]],
        claim: Callable[[list[Duty]], Awaitable[set[int]]],
    ) -> AsyncIterator[list[Duty]]:
        """Read a chunk, claim it, yield what this process claimed, until none is left.

        A claimed duty's stamp leaves the query, so each round reads the next chunk; a round
        that claims nothing means another process is on the same rows, and it sends them.
        """
        while not self.budget.spent:
            duties = await read()
            if not duties:
                return
            claimed = await claim(duties)
            self.budget.spend(len(claimed))
            mine = [d for d in duties if d.unit_id in claimed]
            if not mine:
                return
            yield mine
            if len(duties) < CHUNK:
                return

    async def _task_entries(self, item: OpenTask, duties: list[Duty], overdue: bool) -> None:
        task = item.task
        by_unit = {d.unit_id: d for d in duties}
        gap = self.now - task.deadline if overdue else task.deadline - self.now
        deadline = local(task.deadline, self.tz)
        for member in await self.members.recipients_in_units(by_unit):
            lang = member.language
            duty = by_unit[member.unit_id]
            blocked = duty.state == TaskState.BLOCKED
            key = (
                "remind.overdue_blocked"
                if overdue and blocked
                else ("remind.overdue" if overdue else "remind.task")
            )
            params = {
                "id": task.id,
                "title": task.title,
                "plan": item.plan_code,
                "deadline": deadline,
                "left": time_late(lang, gap) if overdue else time_left(lang, gap),
                "unit": duty.name,
                "status": duty_status(lang, duty),
            }
            entry = Entry(
                late=overdue,
                due=task.deadline,
                alone=t(lang, key, **params),
                line=t(lang, "remind.overdue_line" if overdue else "remind.task_line", **params),
                button=_button(
                    lang, "remind.report_button", callbacks.TaskOpen(task.id), id=task.id
                ),
                ref=f"remind:task:{task.id}",
            )
            self.mailbox.add(member, lang, entry)

    # -- directives ------------------------------------------------------------------------
    async def _directive(self, directive: Directive, scope_depth: int) -> None:
        # ``urgent`` is Hỏa tốc (the one level that goes through quiet hours)
        every = self.config.flash_remind_every if directive.urgent else self.config.directive_every
        delivered = directive_delivered(self.quiet, directive)
        if delivered <= self.now - every and self.now < directive.ack_by:
            before = self.now - every

            async def claim(duties: list[Duty]) -> set[int]:
                ids = [d.unit_id for d in duties]
                return await self.repo.stamp_rereminder(
                    DIRECTIVE_DUTIES, directive.id, ids, before, self.now
                )

            async for duties in self._claimed(
                lambda: self.repo.due_for_rereminder(
                    DIRECTIVE_DUTIES, directive.id, before, self.now
                ),
                claim,
            ):
                self.report.directive_reminders += len(duties)
                await self._directive_entries(directive, duties)
        climb = Climb(
            directive.ack_by,
            scope_depth,
            self.now,
            self.config.escalate_after,
            self.config.escalate_every,
        )
        if self.now >= directive.ack_by + self.config.escalate_after:
            await self.escalator.directive(directive, climb)

    async def _directive_entries(self, directive: Directive, duties: list[Duty]) -> None:
        members = await self.members.active_in_units(d.unit_id for d in duties)
        if directive.urgent:  # a Hỏa tốc directive keeps its own message, at once
            self.report.messages += await send_copies(
                self.notifier, directive, members, self.tz, reminder=True
            )
            return
        deadline = local(directive.ack_by, self.tz)
        first = directive.text.splitlines()[0][:TEXT] if directive.text else ""
        for member in members:
            lang = member.language
            confirm = callbacks.DirectiveConfirm(directive.id, directive.version)
            entry = Entry(
                late=False,
                due=directive.ack_by,
                alone=directive_text(lang, directive, self.tz, reminder=True, now=self.now),
                line=_directive_line(lang, directive, first, deadline),
                button=_button(lang, "remind.confirm_button", confirm, id=directive.id),
                ref=unit_ref(directive.id, directive.version, member.unit_id),
            )
            self.mailbox.add(member, lang, entry)


def _directive_line(lang: str, directive: Directive, first: str, deadline: str) -> str:
    """A directive among a person's reminders: 🔴 and its level above Thường, its số hiệu."""
    level = urgency_of(directive.urgency)
    params = {
        "id": directive.id,
        "text": first,
        "deadline": deadline,
        "level": level_label(lang, level),
        "number": t(lang, "urgency.number_inline", number=directive.document_number)
        if directive.document_number
        else "",
    }
    key = "urgency.directive_line" if level is Urgency.NORMAL else "urgency.directive_line_marked"
    return t(lang, key, **params)


async def sweep(
    session: AsyncSession,
    now: datetime,
    config: RemindersConfig,
    tz: ZoneInfo,
    budget: int = BUDGET,
    last_run: datetime | None = None,
) -> SweepReport:
    """Send the reminders, overdue notices and escalations due at ``now``, each once (up to
    ``budget`` units; the rest in the next sweep). ``last_run``: when the previous sweep ran
    (a sweep after downtime says it is a catch-up)."""
    return await Sweep(session, now, config, tz, budget, last_run).run()
