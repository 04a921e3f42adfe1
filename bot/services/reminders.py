"""The scheduler's reminder sweep: before deadlines, when overdue, unconfirmed directives,
and escalation of silence up the tree.

A sweep reads what is due from the database, writes to the outbox and stamps what it
claimed, all in the caller's transaction. Only the latest due point counts, so a sweep
after hours of downtime sends one message per unit, not one per missed sweep; a stamp
moves only forward, so a restart or a second process sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import ConfigError, RemindersConfig, reminders_for_plan
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services import escalation
from bot.services.directives import send_copies
from bot.services.notify import Copy, Notifier, Priority
from bot.services.plans import report_button
from bot.services.quiet import QuietHours
from bot.services.reminder_text import duty_status, span
from storage.models import Directive
from storage.repositories.members import MemberRepository
from storage.repositories.reminders import (
    CHUNK,
    DIRECTIVE_DUTIES,
    TASK_DUTIES,
    Duty,
    DutyKind,
    OpenTask,
    ReminderRepository,
)

log = logging.getLogger(__name__)
BUDGET = 10_000  # duties one sweep may claim (well under a second; see bench/sweep.py)


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
    timing: RemindersConfig, deadline: datetime, created_at: datetime, now: datetime
) -> datetime | None:
    """The latest reminder (before the deadline) or overdue notice (from it) due by ``now``.

    Points before the task existed do not count: its assignment notice said it all.
    """
    if now >= deadline:
        return deadline + timing.overdue_every * ((now - deadline) // timing.overdue_every)
    passed = [deadline - o for o in timing.task_offsets if created_at < deadline - o <= now]
    return max(passed, default=None)


def escalation_level(timing: RemindersConfig, deadline: datetime, now: datetime) -> int:
    """How many levels up the tree silence should have been reported by ``now``."""
    first = deadline + timing.escalate_after
    if now < first:
        return 0
    return 1 + (now - first) // timing.escalate_every


def directive_point(every: timedelta, directive: Directive, now: datetime) -> datetime | None:
    """The latest re-reminder of an unconfirmed directive due by ``now`` (none after its
    deadline; an amendment starts the count again)."""
    start = directive.amended_at or directive.created_at
    if now >= directive.ack_by or now - start < every:
        return None
    point = start + every * ((now - start) // every)
    return point if point < directive.ack_by else None


def plan_timing(config: RemindersConfig, settings: Mapping[str, Any]) -> RemindersConfig:
    overrides = settings.get("reminders")
    if not overrides:
        return config
    try:
        return reminders_for_plan(config, overrides)
    except ConfigError:
        log.warning("ignoring a plan's invalid reminder settings %r", overrides, exc_info=True)
        return config


class Sweep:
    """One pass over every open task and live directive at ``now``."""

    def __init__(
        self,
        session: AsyncSession,
        now: datetime,
        config: RemindersConfig,
        tz: ZoneInfo,
        budget: int = BUDGET,
    ) -> None:
        self.session = session
        self.now = now
        self.config = config
        self.tz = tz
        self.repo = ReminderRepository(session)
        self.members = MemberRepository(session)
        self.notifier = Notifier(session, now)
        self.report = SweepReport()
        self.budget = escalation.Budget(budget)
        self.escalator = escalation.Escalator(session, self.notifier, now, tz, self.budget)

    async def run(self) -> SweepReport:
        hushed = QuietHours.within(self.config, self.tz).active(self.now)
        depth = await self.repo.max_depth()
        horizon = self.config.escalate_after + self.config.escalate_every * depth
        for directive in await self.repo.live_directives(self.now - horizon):
            if (directive.urgent or not hushed) and not self.budget.spent:
                await self._directive(directive, depth)
        if not hushed:  # nothing about tasks is urgent enough to wake people up
            for item in await self.repo.open_tasks():
                if self.budget.spent:
                    break
                await self._task(item, plan_timing(self.config, item.settings), depth)
        self.report.unfinished = self.budget.spent
        self.report.escalations = self.escalator.units
        self.report.messages += self.escalator.messages
        return self.report

    async def _task(self, item: OpenTask, timing: RemindersConfig, depth: int) -> None:
        task = item.task
        point = reminder_point(timing, task.deadline, task.created_at, self.now)
        if point is not None:
            overdue = point >= task.deadline
            async for duties in self._claim_reminders(TASK_DUTIES, task.id, point):
                if overdue:
                    self.report.overdue += len(duties)
                else:
                    self.report.reminders += len(duties)
                await self._send_task_reminders(item, duties, overdue)
        level = min(depth, escalation_level(timing, task.deadline, self.now))
        if level:
            await self.escalator.task(item, level)

    async def _directive(self, directive: Directive, depth: int) -> None:
        point = directive_point(self.config.directive_every, directive, self.now)
        if point is not None:
            async for duties in self._claim_reminders(DIRECTIVE_DUTIES, directive.id, point):
                self.report.directive_reminders += len(duties)
                members = await self.members.active_in_units(d.unit_id for d in duties)
                self.report.messages += await send_copies(
                    self.notifier, directive, members, self.tz, reminder=True
                )
        level = min(depth, escalation_level(self.config, directive.ack_by, self.now))
        if level:
            await self.escalator.directive(directive, level)

    async def _claim_reminders(
        self, kind: DutyKind, subject_id: int, point: datetime
    ) -> AsyncIterator[list[Duty]]:
        """Chunks of duties this process claimed the reminder at ``point`` for.

        A claimed duty's stamp leaves the query, so each round reads the next chunk; a round
        that claims nothing means another process is on the same rows, and it sends them.
        """
        while not self.budget.spent:
            duties = await self.repo.due_for_reminder(kind, subject_id, point, self.now)
            if not duties:
                return
            claimed = await self.repo.stamp_reminder(
                kind, subject_id, [d.unit_id for d in duties], point
            )
            self.budget.spend(len(claimed))
            mine = [d for d in duties if d.unit_id in claimed]
            if not mine:
                return
            yield mine
            if len(duties) < CHUNK:
                return

    async def _send_task_reminders(self, item: OpenTask, duties: list[Duty], overdue: bool) -> None:
        task = item.task
        by_unit = {d.unit_id: d for d in duties}
        key = "remind.overdue" if overdue else "remind.task"
        gap = self.now - task.deadline if overdue else task.deadline - self.now
        deadline = local(task.deadline, self.tz)
        copies = []
        buttons: dict[str, Any] = {}
        for member in await self.members.recipients_in_units(by_unit):
            lang = member.language
            duty = by_unit[member.unit_id]
            text = t(
                lang,
                key,
                id=task.id,
                title=task.title,
                plan=item.plan_code,
                deadline=deadline,
                left=span(lang, gap),
                unit=duty.name,
                status=duty_status(lang, duty),
            )
            if lang not in buttons:
                buttons[lang] = report_button(lang, task.id)
            copies.append(Copy(member, text, buttons[lang], f"remind:task:{task.id}"))
        self.report.messages += await self.notifier.texts(copies, priority=Priority.BULK)


async def sweep(
    session: AsyncSession,
    now: datetime,
    config: RemindersConfig,
    tz: ZoneInfo,
    budget: int = BUDGET,
) -> SweepReport:
    """Send the reminders, overdue notices and escalations due at ``now``, each once (up to
    ``budget`` units; the rest in the next sweep)."""
    return await Sweep(session, now, config, tz, budget).run()
