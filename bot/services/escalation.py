"""Escalation (báo cáo lên cấp trên): lateness goes up the tree, one level at a time.

``escalate_after`` past the deadline — or past the moment a unit became late again (a report
sent back, a pause ended) — a unit that has not finished a task (or confirmed a directive) is
reported to the coordinators of the nearest unit above it that has any; every
``escalate_every`` after that, to the next such unit up, never above the unit that issued the
task or directive. A sweep after downtime tells every level that would have heard meanwhile,
each in one grouped message. A deadline moved later restarts the climb. A unit nobody can be
reached in counts as late and says so. A blocker a coordinator above has taken on (✋ Đã nắm)
stays where it is until it is resolved (see ``bot.services.blockers``).

What a coordinator reads: one message per subject per sweep (the sweep's mailbox may bundle it
with their other items). Units directly under the coordinator's unit — or a few (``NAMED``),
wherever they lie — are named one by one; more are counted by the coordinator's child unit
("• Công an tỉnh X: 12 đơn vị chưa hoàn thành (3 gặp khó khăn, 2 chưa có cán bộ đăng ký)"),
the worst first, as many as fit one message, the rest counted; the button opens the roll-up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import callbacks
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services.directive_text import Urgency, level_label, urgency_of
from bot.services.mailbox import Entry, Mailbox
from bot.services.notify import Button
from bot.services.reminder_text import MAX_CHARS, bounded, duty_status, first_words, span
from storage.models import Directive, Member, Role, TaskState, Unit
from storage.repositories.blockers import BlockerRepository
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
ButtonOf = Callable[[str], Button]  # (language) → the button to the roll-up
LINES_IN_BUNDLE = 5  # units an escalation lists when it shares a message with other items
MAX_TEXT = 4096 - 2  # a message, less the line breaks around the list
MORE_LINE = 60  # room kept for "… và N mục khác"
NAMED = 10  # this many late units or fewer are named, wherever they lie; more are counted


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
        self.blockers = BlockerRepository(session)
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
                count=number(lang, count),
                scope=unit.name,
            )

        def button(lang: str) -> Button:
            view = callbacks.encode(callbacks.TaskAction(task.id, "view"))
            return Button(t(lang, "alerts.rollup_button"), view)

        groups = await self._climb(TASK_DUTIES, task.id, climb)
        for unit_id, duties in groups.items():
            footer = "escalation.task_footer"
            await self._tell(unit_id, duties, header, footer, task.id, climb, button)

    async def directive(self, directive: Directive, climb: Climb) -> None:
        level = urgency_of(directive.urgency)
        marked = level is not Urgency.NORMAL  # Thường is the absence of a mark

        def header(lang: str, unit: Unit, count: int) -> str:
            doc = directive.document_number
            return t(
                lang,
                "escalation.directive_header_marked" if marked else "escalation.directive_header",
                id=directive.id,
                level=level_label(lang, level),
                number=t(lang, "urgency.number_inline", number=doc) if doc else "",
                text=first_words(directive.text, 80),
                deadline=local(directive.ack_by, self.tz),
                late=span(lang, self.now - directive.ack_by),
                count=number(lang, count),
                scope=unit.name,
            )

        def button(lang: str) -> Button:
            view = callbacks.encode(callbacks.DirectiveAction(directive.id, "view"))
            return Button(t(lang, "alerts.rollup_button"), view)

        groups = await self._climb(DIRECTIVE_DUTIES, directive.id, climb)
        for unit_id, duties in groups.items():
            footer = "escalation.directive_footer"
            await self._tell(unit_id, duties, header, footer, directive.id, climb, button)

    async def _climb(self, kind: DutyKind, subject_id: int, climb: Climb) -> dict[int, list[Duty]]:
        """The duties that stepped up now, by the unit told (claimed in chunks, unit order)."""
        if self._staffed is None:
            self._staffed = await self.members.units_with_coordinators()
        groups: dict[int, list[Duty]] = defaultdict(list)
        after = 0
        while not self.budget.spent:
            read = duties = await self.repo.due_for_escalation(kind, subject_id, climb, after)
            if not duties:
                break
            after = duties[-1].unit_id
            self.budget.spend(len(duties))
            if kind is TASK_DUTIES:  # a blocker someone above has taken on stays put
                taken = await self.blockers.taken(subject_id, [d.unit_id for d in duties])
                duties = [d for d in duties if d.unit_id not in taken]
            steps = {d.unit_id: plan_step(d, climb, self._staffed) for d in duties}
            moves: dict[tuple[int, int], list[int]] = defaultdict(list)
            for duty in duties:
                moves[(duty.escalation_level, steps[duty.unit_id].to_level)].append(duty.unit_id)
            claimed: set[int] = set()
            for (level, to_level), unit_ids in moves.items():
                claimed |= await self.repo.stamp_escalation(
                    kind, subject_id, unit_ids, climb, level, to_level
                )
            for duty in duties:
                if duty.unit_id in claimed:
                    for told in steps[duty.unit_id].told:
                        groups[told].append(duty)
            if len(read) < CHUNK:
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
        button: ButtonOf,
    ) -> None:
        unit, coordinators = await self._recipients(unit_id)
        self.units += len(duties)
        if not coordinators:
            return
        direct = len(duties) <= NAMED or all(d.depth == unit.depth + 1 for d in duties)
        if direct:  # a district hearing of its communes, or a few: the units themselves
            reachable = await self.members.units_with_active_members(d.unit_id for d in duties)
        else:  # higher up: one line per child unit, with counts, the worst first
            groups = await self._by_child(unit, duties)
        for coordinator in coordinators:
            lang = coordinator.language
            head, end = header(lang, unit, len(duties)), t(lang, footer, id=subject_id)
            every = _unit_lines(lang, duties, reachable) if direct else _group_lines(lang, groups)
            alone = "\n".join([head, *_fit(lang, every, MAX_TEXT - len(head) - len(end)), end])
            short = every[:LINES_IN_BUNDLE]
            if len(every) > len(short):
                short.append(t(lang, "remind.more", count=len(every) - len(short)))
            entry = Entry(
                late=True,
                due=climb.deadline,
                alone=alone,
                line="\n".join([head, *short, end]),
                button=button(lang),
                ref=f"escalate:{subject_id}",
            )
            self.mailbox.add(coordinator, lang, entry)

    async def _by_child(self, unit: Unit, duties: list[Duty]) -> list[Group]:
        """The duties counted by the child of ``unit`` they lie under, the worst first."""
        staffed = await self.members.units_with_active_members(
            (d.unit_id for d in duties), reached=False
        )
        counts: dict[int, Group] = {}
        for duty in duties:
            child = ancestor_ids(duty.path)[unit.depth + 1]
            group = counts.setdefault(child, Group(child))
            group.count += 1
            group.tasks = duty.state is not None
            group.blocked += duty.state == TaskState.BLOCKED
            group.nobody += duty.unit_id not in staffed
        for found in await self.units_repo.get_many(counts):
            counts[found.id].name = found.name
        return sorted(counts.values(), key=lambda g: (-g.count, -g.blocked, -g.nobody, g.name))


@dataclass
class Group:
    """A child unit of the unit told, and how many units under it are behind."""

    unit_id: int
    name: str = ""
    count: int = 0
    blocked: int = 0
    nobody: int = 0
    tasks: bool = True


def number(lang: str, value: int) -> str:
    """10.000 in Vietnamese, 10,000 in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "vi" else text


def _unit_lines(lang: str, duties: list[Duty], reachable: set[int]) -> list[str]:
    nobody = t(lang, "escalation.nobody")
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


def _group_lines(lang: str, groups: list[Group]) -> list[str]:
    lines = []
    for group in groups:
        parts = []
        if group.blocked:
            parts.append(t(lang, "alerts.part_blocked", count=group.blocked))
        if group.nobody:
            parts.append(t(lang, "alerts.part_nobody", count=group.nobody))
        extra = t(lang, "alerts.parts", parts=", ".join(parts)) if parts else ""
        key = "alerts.child_line" if group.tasks else "alerts.child_line_directive"
        lines.append(t(lang, key, name=group.name, count=number(lang, group.count), extra=extra))
    return lines


def _fit(lang: str, lines: list[str], room: int) -> list[str]:
    """As many ``lines`` as fit in ``room`` characters, then how many more there are."""
    return bounded(lang, lines, len(lines), min(room - MORE_LINE, MAX_CHARS))
