"""Escalation (báo cáo lên cấp trên): lateness goes up the tree, one level at a time.

``escalate_after`` past the deadline — or past the moment a unit became late again (a report
sent back, a pause ended) — a unit that has not finished a task (or confirmed a directive) is
reported to the coordinators of the nearest unit above it that has any; every
``escalate_every`` after that, to the next such unit up, never above the unit that issued the
task or directive. A sweep after downtime tells every level that would have heard meanwhile,
each in one grouped message. A deadline moved later restarts the climb. A unit nobody can be
reached in counts as late and says so.
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
from bot.services.mailbox import Entry, Mailbox
from bot.services.reminder_text import bounded, duty_status, span
from storage.models import Directive, Member, Role, Unit
from storage.repositories.members import MemberRepository
from storage.repositories.reminders import (
    CHUNK,
    DIRECTIVE_DUTIES,
    TASK_DUTIES,
    Climb,
    Duty,
    DutyKind,
    OpenTask,
    ReminderRepository,
)
from storage.repositories.units import UnitRepository, ancestor_ids

Header = Callable[[str, Unit, int], str]  # (language, the unit told, how many units) → text
LINES_IN_BUNDLE = 5  # units an escalation lists when it shares a message with other items


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


@dataclass(frozen=True)
class Step:
    """A duty's move up the tree: the level it is stamped at and the units told on the way."""

    to_level: int
    told: list[int]


def plan_step(duty: Duty, climb: Climb, staffed: set[int]) -> Step:
    """Where a due duty goes now. Levels count up from the unit (1 = its parent) to the
    issuer; only units with a coordinator are told; the stamp says how far the climb got
    (the issuer's level once nobody is left to tell, so the duty leaves the sweeps' query)."""
    ancestors = ancestor_ids(duty.path)  # root first, the unit itself last
    top = duty.depth - climb.scope_depth
    chain = [level for level in range(1, top + 1) if ancestors[duty.depth - level] in staffed]
    restart = (
        duty.escalated_at is None
        or duty.escalated_at < climb.deadline
        or (duty.climb_from is not None and duty.escalated_at < duty.climb_from)
    )
    reached = 0 if restart else sum(1 for level in chain if level <= duty.escalation_level)
    start = max(climb.deadline, duty.climb_from or climb.deadline)
    due = 0
    if climb.now >= start + climb.after:
        due = 1 + (climb.now - start - climb.after) // climb.every
    target = min(len(chain), due if restart else max(reached + 1, due))
    if target <= reached:
        return Step(top, [])
    told = chain[reached:target]
    to_level = top if target == len(chain) else told[-1]
    return Step(to_level, [ancestors[duty.depth - level] for level in told])


class Escalator:
    """Claims the escalations of one sweep and drops them into its mailbox."""

    def __init__(
        self,
        session: AsyncSession,
        mailbox: Mailbox,
        now: datetime,
        tz: ZoneInfo,
        budget: Budget,
    ) -> None:
        self.budget = budget
        self.repo = ReminderRepository(session)
        self.members = MemberRepository(session)
        self.units_repo = UnitRepository(session)
        self.mailbox = mailbox
        self.now = now
        self.tz = tz
        self.units = 0
        self._staffed: set[int] | None = None
        self._told: dict[int, tuple[Unit, list[Member]]] = {}

    async def task(self, item: OpenTask, climb: Climb) -> None:
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

        groups = await self._climb(TASK_DUTIES, task.id, climb)
        for unit_id, duties in groups.items():
            await self._tell(unit_id, duties, header, "escalation.task_footer", task.id, climb)

    async def directive(self, directive: Directive, climb: Climb) -> None:
        def header(lang: str, unit: Unit, count: int) -> str:
            return t(
                lang,
                "escalation.directive_header",
                id=directive.id,
                text=directive.text.splitlines()[0][:80] if directive.text else "",
                deadline=local(directive.ack_by, self.tz),
                late=span(lang, self.now - directive.ack_by),
                count=count,
                scope=unit.name,
            )

        groups = await self._climb(DIRECTIVE_DUTIES, directive.id, climb)
        for unit_id, duties in groups.items():
            await self._tell(
                unit_id, duties, header, "escalation.directive_footer", directive.id, climb
            )

    async def _climb(self, kind: DutyKind, subject_id: int, climb: Climb) -> dict[int, list[Duty]]:
        """The duties that stepped up now, by the unit told (claimed in chunks, unit order)."""
        if self._staffed is None:
            self._staffed = await self.members.units_with_coordinators()
        groups: dict[int, list[Duty]] = defaultdict(list)
        after = 0
        while not self.budget.spent:
            duties = await self.repo.due_for_escalation(kind, subject_id, climb, after)
            if not duties:
                break
            after = duties[-1].unit_id
            steps = {d.unit_id: plan_step(d, climb, self._staffed) for d in duties}
            moves: dict[tuple[int, int], list[int]] = defaultdict(list)
            for duty in duties:
                moves[(duty.escalation_level, steps[duty.unit_id].to_level)].append(duty.unit_id)
            claimed: set[int] = set()
            for (level, to_level), unit_ids in moves.items():
                claimed |= await self.repo.stamp_escalation(
                    kind, subject_id, unit_ids, climb, level, to_level
                )
            self.budget.spend(len(duties))
            for duty in duties:
                if duty.unit_id in claimed:
                    for told in steps[duty.unit_id].told:
                        groups[told].append(duty)
            if len(duties) < CHUNK:
                break
        return groups

    async def _recipients(self, unit_id: int) -> tuple[Unit, list[Member]]:
        """The unit told and its coordinators."""
        if unit_id not in self._told:
            unit = await self.units_repo.get(unit_id)
            assert unit is not None  # noqa: S101 - an ancestor on a unit's own path
            found = await self.members.active_with_roles_in_units([unit_id], [Role.COORDINATOR])
            self._told[unit_id] = (unit, found)
        return self._told[unit_id]

    async def _tell(
        self,
        unit_id: int,
        duties: list[Duty],
        header: Header,
        footer: str,
        subject_id: int,
        climb: Climb,
    ) -> None:
        unit, coordinators = await self._recipients(unit_id)
        reachable = await self.members.units_with_active_members(d.unit_id for d in duties)
        self.units += len(duties)
        for coordinator in coordinators:
            lang = coordinator.language
            nobody = t(lang, "escalation.nobody")

            def lines(lang: str = lang, nobody: str = nobody) -> list[str]:
                return [
                    t(
                        lang,
                        "escalation.unit_line" if d.state else "escalation.directive_unit_line",
                        name=d.name,
                        code=d.code,
                        status=duty_status(lang, d),
                        unreachable="" if d.unit_id in reachable else nobody,
                    )
                    for d in duties
                ]

            head, end = header(lang, unit, len(duties)), t(lang, footer, id=subject_id)
            every = lines()
            alone = "\n".join([head, *bounded(lang, every, len(duties)), end])
            short = every[:LINES_IN_BUNDLE]
            if len(every) > len(short):
                short.append(t(lang, "remind.more", count=len(every) - len(short)))
            entry = Entry(
                late=True,
                due=climb.deadline,
                alone=alone,
                line="\n".join([head, *short, end]),
                button=None,
                ref=f"escalate:{subject_id}",
            )
            self.mailbox.add(coordinator, lang, entry)
