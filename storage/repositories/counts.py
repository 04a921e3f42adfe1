"""Counts per subtree, kept in step with every write of a duty.

``task_counts`` and ``directive_counts`` hold, for each unit and each task or directive that
reaches its subtree, how the subtree's duties stand (the unit's own included). A write of an
assignment or a target notes its change here — the row it leaves minus the row it was — and
the changes of a transaction are summed per (subject, ancestor) and written just before it
commits (``storage/db.py``), as one upsert per row touched: a batch of 500 taps on one
directive adds to the committee's row once, not 500 times. Readers call :meth:`apply` first,
so they see their own transaction's writes too.

:meth:`recount` builds the same sums from the duties themselves: it fills the counts after a
bulk load, and tests compare it with what the writes kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.models import (
    DirectiveCount,
    DirectiveTarget,
    Member,
    MemberStatus,
    TaskAssignment,
    TaskCount,
    TaskState,
    Unit,
)

TASK_FIELDS = (
    "duties",
    "done",
    "doing",
    "blocked",
    "idle",
    "returned",
    "unfinished",
    "progress",
    "unstaffed",
)
DIRECTIVE_FIELDS = ("units", "confirmed", "after_deadline", "unstaffed")
_PENDING = "fieldbot_counts"
_CHUNK = 500  # rows per upsert statement (SQLite's bound-parameter limit)

Row = tuple[int, ...]
Key = tuple[int, int]  # (task or directive, unit)


def duty_row(state: str, progress: int, returned: bool, staffed: bool = True) -> Row:
    """What one assignment adds to the counts of each unit above it (and its own)."""
    done = state == TaskState.DONE and not returned
    return (
        1,
        int(done),
        int(state == TaskState.IN_PROGRESS),
        int(state == TaskState.BLOCKED),
        int(state == TaskState.NOT_STARTED),
        int(returned),
        int(not done),
        progress,
        int(not staffed),
    )


def target_row(confirmed: bool, late: bool, staffed: bool = True) -> Row:
    """What one directive target adds to the counts of each unit above it."""
    return (1, int(confirmed), int(confirmed and late), int(not staffed))


def ancestors(path: str) -> list[int]:
    """The ids of a unit's path ("/1/7/42/"), the unit itself last."""
    return [int(part) for part in path.strip("/").split("/") if part]


def _minus(after: Row, before: Row) -> Row:
    return tuple(a - b for a, b in zip(after, before, strict=True))


@dataclass
class _Pending:
    """A transaction's changes not written yet, by the unit they happened to."""

    tasks: dict[Key, list[int]] = field(default_factory=dict)
    directives: dict[Key, list[int]] = field(default_factory=dict)

    def add(self, into: dict[Key, list[int]], key: Key, row: Row) -> None:
        sums = into.setdefault(key, [0] * len(row))
        for i, value in enumerate(row):
            sums[i] += value

    def __bool__(self) -> bool:
        return bool(self.tasks or self.directives)


def _pending(session: Session) -> _Pending:
    found = session.info.get(_PENDING)
    if found is None:
        found = session.info[_PENDING] = _Pending()
    return cast(_Pending, found)


class CountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- writes: note a change; it is written at commit (or when a reader asks) ------------

    def duty_changed(self, task_id: int, unit_id: int, before: Row, after: Row) -> None:
        if before != after:
            pending = _pending(self.session.sync_session)
            pending.add(pending.tasks, (task_id, unit_id), _minus(after, before))

    def target_changed(self, directive_id: int, unit_id: int, before: Row, after: Row) -> None:
        if before != after:
            pending = _pending(self.session.sync_session)
            pending.add(pending.directives, (directive_id, unit_id), _minus(after, before))

    async def assigned(self, task_id: int, unit_ids: Sequence[int]) -> None:
        """New duties, not started, on ``unit_ids``."""
        staffed = await self._staffed(unit_ids)
        pending = _pending(self.session.sync_session)
        for unit_id in unit_ids:
            row = duty_row(TaskState.NOT_STARTED, 0, False, unit_id in staffed)
            pending.add(pending.tasks, (task_id, unit_id), row)

    async def targeted(self, directive_id: int, unit_ids: Sequence[int]) -> None:
        """New targets, not confirmed, on ``unit_ids``."""
        staffed = await self._staffed(unit_ids)
        pending = _pending(self.session.sync_session)
        for unit_id in unit_ids:
            pending.add(
                pending.directives,
                (directive_id, unit_id),
                target_row(False, False, unit_id in staffed),
            )

    async def joined(self, unit: Unit) -> None:
        """A member of ``unit`` has just become active. If they are its first, its duties are
        no longer those of a unit nobody is in, in every count above it."""
        active = select(func.count(Member.id)).where(
            Member.unit_id == unit.id, Member.status == MemberStatus.ACTIVE
        )
        if await self.session.scalar(active) != 1:
            return
        await self.apply()  # duties noted in this transaction are in the rows changed here
        above = ancestors(unit.path)
        for model, subject, duty in (
            (TaskCount, TaskCount.task_id, TaskAssignment.task_id),
            (DirectiveCount, DirectiveCount.directive_id, DirectiveTarget.directive_id),
        ):
            owner = TaskAssignment if model is TaskCount else DirectiveTarget
            await self.session.execute(
                update(model)
                .where(
                    model.unit_id.in_(above),
                    subject.in_(select(duty).where(owner.unit_id == unit.id)),
                )
                .values(unstaffed=model.unstaffed - 1)
                .execution_options(synchronize_session=False)
            )

    # -- writing what was noted ----------------------------------------------------------

    async def apply(self) -> None:
        """Write the changes noted in this transaction (see :func:`apply_pending`)."""
        await self.session.run_sync(apply_pending)

    async def _staffed(self, unit_ids: Iterable[int]) -> set[int]:
        ids = list(unit_ids)
        found: set[int] = set()
        for start in range(0, len(ids), 5000):
            found.update(
                await self.session.scalars(
                    select(Member.unit_id).where(
                        Member.unit_id.in_(ids[start : start + 5000]),
                        Member.status == MemberStatus.ACTIVE,
                    )
                )
            )
        return found

    # -- from scratch -------------------------------------------------------------------

    async def recount(self) -> tuple[dict[Key, Row], dict[Key, Row]]:
        """The counts as the duties themselves give them (tasks, directives)."""
        paths = {u: p for u, p in await self.session.execute(select(Unit.id, Unit.path))}
        staffed = set(
            await self.session.scalars(
                select(Member.unit_id).where(Member.status == MemberStatus.ACTIVE)
            )
        )
        tasks: dict[Key, list[int]] = defaultdict(lambda: [0] * len(TASK_FIELDS))
        duties = await self.session.stream(
            select(
                TaskAssignment.task_id,
                TaskAssignment.unit_id,
                TaskAssignment.state,
                TaskAssignment.progress,
                TaskAssignment.returned_at.is_not(None),
            ).execution_options(yield_per=5000)
        )
        async for task_id, unit_id, state, progress, returned in duties:
            _spread(
                tasks,
                task_id,
                paths[unit_id],
                duty_row(state, progress, returned, unit_id in staffed),
            )
        directives: dict[Key, list[int]] = defaultdict(lambda: [0] * len(DIRECTIVE_FIELDS))
        targets = await self.session.stream(
            select(
                DirectiveTarget.directive_id,
                DirectiveTarget.unit_id,
                DirectiveTarget.confirmed_at.is_not(None),
                DirectiveTarget.late,
            ).execution_options(yield_per=5000)
        )
        async for directive_id, unit_id, confirmed, late in targets:
            row = target_row(bool(confirmed), bool(late), unit_id in staffed)
            _spread(directives, directive_id, paths[unit_id], row)
        return (
            {k: tuple(v) for k, v in tasks.items()},
            {k: tuple(v) for k, v in directives.items()},
        )

    async def kept(self) -> tuple[dict[Key, Row], dict[Key, Row]]:
        """The counts as the writes kept them (rows of nothing left out)."""
        await self.apply()
        found: list[dict[Key, Row]] = []
        for model, subject, fields in (
            (TaskCount, TaskCount.task_id, TASK_FIELDS),
            (DirectiveCount, DirectiveCount.directive_id, DIRECTIVE_FIELDS),
        ):
            columns = [getattr(model, name) for name in fields]
            rows = await self.session.execute(select(subject, model.unit_id, *columns))
            found.append({(s, u): tuple(values) for s, u, *values in rows if any(values)})
        return found[0], found[1]

    async def rebuild(self) -> None:
        """Throw the kept counts away and write them again from the duties (after a bulk
        load that wrote duties directly). Changes noted and not written yet are in the
        duties already, so they are dropped."""
        self.session.sync_session.info.pop(_PENDING, None)
        tasks, directives = await self.recount()
        await self.session.execute(delete(TaskCount))
        await self.session.execute(delete(DirectiveCount))
        for model, key, fields, found in (
            (TaskCount, "task_id", TASK_FIELDS, tasks),
            (DirectiveCount, "directive_id", DIRECTIVE_FIELDS, directives),
        ):
            rows = [
                {key: s, "unit_id": u, **dict(zip(fields, values, strict=True))}
                for (s, u), values in sorted(found.items())
            ]
            for start in range(0, len(rows), 5000):
                await self.session.execute(insert(model), rows[start : start + 5000])


def _zeros(width: int) -> list[int]:
    return [0] * width


def _spread(into: dict[Key, list[int]], subject: int, path: str, row: Row) -> None:
    for unit_id in ancestors(path):
        sums = into[subject, unit_id]
        for i, value in enumerate(row):
            sums[i] += value


def apply_pending(session: Session) -> None:
    """Write a transaction's noted changes: each summed over the units above the unit it
    happened to, then one upsert per (subject, unit) row, in key order (two transactions
    touching the same rows take their locks in the same order)."""
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    leaves = {unit for _, unit in pending.tasks} | {unit for _, unit in pending.directives}
    paths: dict[int, str] = {}
    ids = sorted(leaves)
    for start in range(0, len(ids), 5000):
        found = session.execute(
            select(Unit.id, Unit.path).where(Unit.id.in_(ids[start : start + 5000]))
        )
        paths.update({unit_id: path for unit_id, path in found})
    dialect = session.get_bind().dialect.name
    for model, key, fields, changes in (
        (TaskCount, "task_id", TASK_FIELDS, pending.tasks),
        (DirectiveCount, "directive_id", DIRECTIVE_FIELDS, pending.directives),
    ):
        sums: dict[Key, list[int]] = defaultdict(partial(_zeros, len(fields)))
        for (subject, unit_id), row in changes.items():
            _spread(sums, subject, paths[unit_id], tuple(row))
        rows = [
            {key: s, "unit_id": u, **dict(zip(fields, values, strict=True))}
            for (s, u), values in sorted(sums.items())
            if any(values)
        ]
        for start in range(0, len(rows), _CHUNK):
            session.execute(_upsert(dialect, model, key, fields, rows[start : start + _CHUNK]))


def _upsert(
    dialect: str, model: Any, key: str, fields: Sequence[str], rows: list[dict[str, int]]
) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model.__table__).values(rows)
    table = model.__table__
    return stmt.on_conflict_do_update(
        index_elements=[key, "unit_id"],
        set_={name: table.c[name] + stmt.excluded[name] for name in fields},
    )
