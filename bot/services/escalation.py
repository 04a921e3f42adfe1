"""Escalation (báo cáo lên cấp trên): silence after a deadline goes up the tree.

At the deadline plus ``escalate_after`` a unit that has not finished a task (or confirmed a
directive) is reported to the coordinators of its parent unit; every ``escalate_every``
after that, one level higher, up to the steering committee. A unit nobody can be reached
in counts as silent and says so. Each coordinator gets one message per task and level,
listing the units of their part of the tree. A level with no coordinator (nor any above it)
hands the report to the highest level below it that has one, so nothing is told to nobody.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services.members import coordinators_over
from bot.services.notify import Notifier, Priority
from bot.services.reminder_text import bounded, duty_status, span
from storage.models import Directive, Member, Unit
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
from storage.repositories.units import UnitRepository, ancestor_ids

Header = Callable[[str, Unit, int], str]  # (language, the unit told, how many units) → text


@dataclass
class Budget:
    """How many more duties one sweep may claim: a sweep stays short and its transaction
    small; whatever is left (a catch-up after long downtime) is the next sweep's."""

    left: int

    def spend(self, count: int) -> None:
        self.left -= count

    @property
    def spent(self) -> bool:
        return self.left <= 0


class Escalator:
    """Claims and sends the escalations of one sweep; counts what it did."""

    def __init__(
        self,
        session: AsyncSession,
        notifier: Notifier,
        now: datetime,
        tz: ZoneInfo,
        budget: Budget,
    ) -> None:
        self.budget = budget
        self.repo = ReminderRepository(session)
        self.members = MemberRepository(session)
        self.units_repo = UnitRepository(session)
        self.notifier = notifier
        self.now = now
        self.tz = tz
        self.units = 0
        self.messages = 0
        self._told: dict[int, tuple[Unit, list[Member]]] = {}

    async def task(self, item: OpenTask, level: int) -> None:
        task = item.task

        def header(lang: str, unit: Unit, count: int) -> str:
            return t(
                lang,
                "escalation.task_header",
                id=task.id,
                title=task.title,
                plan=item.plan_code,
                deadline=local(task.deadline, self.tz),
                late=span(lang, self.now - task.deadline),
                count=count,
                scope=unit.name,
            )

        groups = await self._claim(TASK_DUTIES, task.id, level)
        for ancestor_id, duties in groups.items():
            await self._send(ancestor_id, duties, header, "escalation.task_footer", task.id)

    async def directive(self, directive: Directive, level: int) -> None:
        def header(lang: str, unit: Unit, count: int) -> str:
            return t(
                lang,
                "escalation.directive_header",
                id=directive.id,
                text=directive.text.splitlines()[0][:80],
                deadline=local(directive.ack_by, self.tz),
                late=span(lang, self.now - directive.ack_by),
                count=count,
                scope=unit.name,
            )

        groups = await self._claim(DIRECTIVE_DUTIES, directive.id, level)
        for ancestor_id, duties in groups.items():
            await self._send(
                ancestor_id, duties, header, "escalation.directive_footer", directive.id
            )

    async def _claim(self, kind: DutyKind, subject_id: int, level: int) -> dict[int, list[Duty]]:
        """Units newly escalated to ``level`` (or to the top, if nearer), by the unit told."""
        groups: dict[int, list[Duty]] = defaultdict(list)
        while not self.budget.spent:  # claimed units leave the query
            duties = await self.repo.due_for_escalation(kind, subject_id, level, self.now)
            if not duties:
                break
            by_reach: dict[int, list[int]] = defaultdict(list)
            for duty in duties:
                by_reach[min(level, duty.depth)].append(duty.unit_id)
            claimed: set[int] = set()
            for reach, unit_ids in by_reach.items():
                claimed |= await self.repo.stamp_escalation(kind, subject_id, unit_ids, reach)
            self.budget.spend(len(claimed))
            for duty in duties:
                if duty.unit_id in claimed:
                    reach = min(level, duty.depth)
                    groups[ancestor_ids(duty.path)[duty.depth - reach]].append(duty)
            if not claimed or len(duties) < CHUNK:
                break
        return groups

    async def _recipients(self, unit_id: int) -> tuple[Unit, list[Member]]:
        """The unit told and its coordinators (or the nearest ones above it)."""
        if unit_id not in self._told:
            unit = await self.units_repo.get(unit_id)
            assert unit is not None  # an ancestor on a unit's own path
            self._told[unit_id] = (unit, await coordinators_over(self.members, unit.path))
        return self._told[unit_id]

    async def _send(
        self, ancestor_id: int, duties: list[Duty], header: Header, footer: str, subject_id: int
    ) -> None:
        unit, coordinators = await self._recipients(ancestor_id)
        if not coordinators:  # nobody at or above this level: the highest level below that has
            below: dict[int, list[Duty]] = defaultdict(list)
            for duty in duties:
                path = ancestor_ids(duty.path)
                step = path.index(ancestor_id) + 1
                if step < len(path) - 1:  # never back to the silent unit itself
                    below[path[step]].append(duty)
            for lower_id, lower in below.items():
                await self._send(lower_id, lower, header, footer, subject_id)
            return
        reachable = await self.members.units_with_active_members(d.unit_id for d in duties)
        self.units += len(duties)
        for coordinator in coordinators:
            lang = coordinator.language
            nobody = t(lang, "escalation.nobody")
            lines = (
                t(
                    lang,
                    "escalation.unit_line" if d.state else "escalation.directive_unit_line",
                    name=d.name,
                    code=d.code,
                    status=duty_status(lang, d),
                    unreachable="" if d.unit_id in reachable else nobody,
                )
                for d in duties
            )
            text = "\n".join(
                [
                    header(lang, unit, len(duties)),
                    *bounded(lang, lines, len(duties)),
                    t(lang, footer, id=subject_id),
                ]
            )
            self.notifier.text(
                coordinator, text, ref=f"escalate:{subject_id}", priority=Priority.NORMAL
            )
            self.messages += 1
