"""Roll-ups by level with drill-down: one pattern for a task, a plan, a directive and the whole
picture (/status).

A page is seen from one unit of the viewer's subtree: one line per child unit that has
something to do there (how many of its units have done or confirmed, are blocked, late, or
have nobody registered), worst first, a phone screen at a time; a line opens that child; the
bottom level lists the unit's own members and when each last acted. Whoever issued the task or
directive, the viewer sees their own part of it — nothing outside their subtree, ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.authz import Action, Actor, authorize, require
from bot.services.errors import ServiceError
from storage.models import Directive, Plan, Task, Unit
from storage.repositories.directives import DirectiveRepository
from storage.repositories.members import MemberRepository
from storage.repositories.rollups import (
    Child,
    DirectiveTally,
    MemberActivity,
    RollupRepository,
    TaskTally,
)
from storage.repositories.tasks import PlanRepository, TaskRepository

__all__ = ["Directive", "MemberActivity", "PAGE", "Page", "Rollups", "RollupError", "Line"]
from storage.repositories.units import UnitRepository

PAGE = 8  # child lines on one page: with the heading, one phone screen
TASK, PLAN, DIRECTIVE, ALL = "t", "p", "d", "a"


class RollupError(ServiceError):
    """A roll-up that cannot be shown: unknown subject, unit out of scope, page gone."""


@dataclass(frozen=True)
class Line:
    """One child unit's part: ``done`` of ``duties`` (tasks: unit × task pairs; directives:
    units confirmed)."""

    unit: Child
    duties: int
    units: int
    done: int
    in_progress: int
    blocked: int
    not_started: int
    late: int
    returned: int
    unstaffed: int
    own: bool = False  # the viewed unit's own duty, not a child's subtree
    progress: int = 0  # the sum of the duties' progress
    after_deadline: int = 0  # confirmed after the deadline (directives)

    @property
    def single(self) -> bool:
        """One unit with one duty: its line says its own state, not a count."""
        return self.duties == 1 and not self.unit.has_children

    @property
    def rate(self) -> float:
        return self.done / self.duties if self.duties else 1.0

    def worst_first(self) -> tuple[float, int, int, str]:
        return (self.rate, -self.late, -self.blocked, self.unit.code)


@dataclass(frozen=True)
class Page:
    kind: str
    subject_id: int  # 0 for the whole picture
    at: Unit
    up: Unit | None  # the level above, when it is still the viewer's
    total: Line  # the whole of ``at``'s part
    lines: list[Line]  # this page's children, worst first
    page: int
    pages: int
    members: list[MemberActivity] | None  # the bottom level: nobody below to open
    task: Task | None = None
    plan: Plan | None = None
    directive: Directive | None = None
    can_change: bool = False  # close the task / remind and amend the directive


def _task_line(unit: Child, tally: TaskTally, own: bool = False) -> Line:
    return Line(
        unit,
        tally.duties,
        tally.units,
        tally.done,
        tally.in_progress,
        tally.blocked,
        tally.not_started,
        tally.late,
        tally.returned,
        tally.unstaffed,
        own,
        tally.progress,
    )


def _directive_line(unit: Child, tally: DirectiveTally, own: bool = False) -> Line:
    pending = tally.units - tally.confirmed
    return Line(
        unit,
        tally.units,
        tally.units,
        tally.confirmed,
        0,
        0,
        pending,
        tally.late,
        0,
        tally.unstaffed,
        own,
        0,
        tally.after_deadline,
    )


def _sum(unit: Child, lines: list[Line]) -> Line:
    return Line(
        unit,
        duties=sum(x.duties for x in lines),
        units=sum(x.units for x in lines),
        done=sum(x.done for x in lines),
        in_progress=sum(x.in_progress for x in lines),
        blocked=sum(x.blocked for x in lines),
        not_started=sum(x.not_started for x in lines),
        late=sum(x.late for x in lines),
        returned=sum(x.returned for x in lines),
        unstaffed=sum(x.unstaffed for x in lines),
        progress=sum(x.progress for x in lines),
        after_deadline=sum(x.after_deadline for x in lines),
    )


async def nobody_in(session: AsyncSession, units: Sequence[Unit]) -> list[str]:
    """The names of the units among ``units`` that nobody can receive anything in (nobody
    registered, or everyone unreachable): what a preview says before a send."""
    reached = await MemberRepository(session).units_with_active_members(u.id for u in units)
    return [u.name for u in units if u.id not in reached]


class Rollups:
    def __init__(self, session: AsyncSession, actor: Actor, now: datetime) -> None:
        self.session = session
        self.actor = actor
        self.now = now
        self.repo = RollupRepository(session)
        self.units = UnitRepository(session)

    async def unit(self, at: int | str | None, action: Action) -> Unit:
        """The viewed unit: the viewer's own (None), or one by id or code in their scope."""
        if at is None:
            found = await self.units.get(self.actor.unit_id or 0)
        elif isinstance(at, int):
            found = await self.units.get(at)
        else:
            found = await self.units.get_by_code(at.strip())
        if found is None:
            raise RollupError("directive.unknown_units", codes=str(at)[:64])
        require(self.actor, action, found.path)
        return found

    async def page(self, kind: str, subject_id: int, at: int | str | None, page: int) -> Page:
        action = Action.VIEW_DIRECTIVES if kind == DIRECTIVE else Action.VIEW_TASKS
        unit = await self.unit(at, action)
        task = plan = directive = None
        if kind == DIRECTIVE:
            directive = await DirectiveRepository(self.session).get(subject_id)
            if directive is None:
                raise RollupError("directive.not_found", id=subject_id)
            overdue = self.now >= directive.ack_by
        elif kind == TASK:
            task = await TaskRepository(self.session).get(subject_id)
            if task is None:
                raise RollupError("task.not_found", id=subject_id)
            plan = await PlanRepository(self.session).get(task.plan_id)
        elif kind == PLAN:
            plan = await PlanRepository(self.session).get(subject_id)
            if plan is None:
                raise RollupError("rollup.no_plan", id=subject_id)
        depth = await self.repo.max_depth()
        me = Child(unit.id, unit.code, unit.name, unit.level, True)
        children = {c.id: c for c in await self.repo.children(unit)}
        children[unit.id] = me
        if kind == DIRECTIVE:
            tallies = await self.repo.directive_tallies(unit, subject_id, overdue, depth)
            lines = [
                _directive_line(children[x.child_id], x, x.child_id == unit.id) for x in tallies
            ]
        else:
            ids = [subject_id] if kind == TASK else None
            if kind == PLAN:
                ids = await self.repo.plan_task_ids(subject_id)
            found = await self.repo.task_tallies(unit, ids, self.now, depth)
            lines = [_task_line(children[x.child_id], x, x.child_id == unit.id) for x in found]
        if not lines and kind != ALL:  # nothing of it in the viewer's part: not theirs to see
            key = {TASK: "task.not_found", DIRECTIVE: "directive.not_found"}.get(kind)
            raise RollupError(key or "rollup.no_plan", id=subject_id)
        below = sorted((line for line in lines if not line.own), key=Line.worst_first)
        pages = max(1, -(-len(below) // PAGE))
        if page >= pages:
            raise RollupError("rollup.no_page", page=page + 1, pages=pages)
        members = None
        if not below:  # nobody under it with a duty: the unit itself, its people
            members = await self.repo.members_of(unit.id)
        return Page(
            kind,
            subject_id,
            unit,
            await self._up(unit),
            _sum(me, lines),
            below[page * PAGE : (page + 1) * PAGE],
            page,
            pages,
            members,
            task,
            plan,
            directive,
            await self._can_change(task, directive),
        )

    async def _can_change(self, task: Task | None, directive: Directive | None) -> bool:
        if task is not None and task.closed_at is None:
            action, scope_id = Action.CLOSE_TASK, task.scope_unit_id
        elif directive is not None:
            action, scope_id = Action.REMIND_DIRECTIVE, directive.scope_unit_id
        else:
            return False
        scope = await self.units.get(scope_id)
        return bool(authorize(self.actor, action, scope.path if scope else None))

    async def unit_id(self, code: str) -> int:
        """The id of the unit ``code`` names (scope is checked when its page is read)."""
        found = await self.units.get_by_code(code.strip()[:64])
        if found is None:
            raise RollupError("directive.unknown_units", codes=code[:64])
        return found.id

    async def reaching(self, limit: int) -> list[tuple[Directive, int, int]]:
        """The latest directives with targets in the viewer's subtree, whoever sent them, with
        the targets and confirmations of that part."""
        require(self.actor, Action.VIEW_DIRECTIVES, self.actor.unit_path)
        tops = [self.actor.unit_id] if self.actor.unit_id else await self.repo.roots()
        return await self.repo.directives_reaching(tops, limit)

    async def owed_by_my_unit(self) -> list[Directive]:
        """What the viewer's own unit has not confirmed yet (an officer's /directives)."""
        require(self.actor, Action.CONFIRM_DIRECTIVE, self.actor.unit_path)
        return await DirectiveRepository(self.session).open_for_unit(self.actor.unit_id or 0)

    async def _up(self, unit: Unit) -> Unit | None:
        """The parent, when the viewer may see it too (never above the viewer's own unit)."""
        if unit.parent_id is None or unit.path == self.actor.unit_path:
            return None
        parent = await self.units.get(unit.parent_id)
        if parent is None or not parent.path.startswith(self.actor.unit_path):
            return None
        return parent
