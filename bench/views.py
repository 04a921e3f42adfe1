"""Roll-up pages at national scale: what a coordinator's tap on a level costs.

10,000 units (63 provinces and their communes) × 50 open tasks (500,000 assignments) and a
directive to every unit. fieldbot reads one page (the children of the viewed unit, counted in
SQL, worst first); the peer reads the duty rows with each unit's path and counts them per
child in Python. Both on the same database in the same run: SQLite, or PostgreSQL when
``FIELDBOT_BENCH_DATABASE_URL`` names a server.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bench.rollup import _seed
from bot.services.authz import Actor
from bot.services.digests import digest_text
from bot.services.rollups import Rollups
from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    Directive,
    DirectiveTarget,
    Member,
    MemberStatus,
    Role,
    Task,
    TaskAssignment,
    Unit,
)
from storage.repositories.counts import CountRepository
from storage.repositories.digests import DigestRepository

RUNS = 5


async def _directive(db: Database, now: datetime) -> int:
    async with db.session() as session:
        directive = Directive(
            author_label="bench", scope_unit_id=1, text="Triển khai", ack_by=now,
            urgent=False, version=1, created_at=now,
        )  # fmt: skip
        session.add(directive)
        await session.flush()
        ids = list(await session.scalars(select(Unit.id)))
        rows = [
            {"directive_id": directive.id, "unit_id": u, "confirmed_at": now if u % 3 else None}
            for u in ids
        ]
        for start in range(0, len(rows), 5000):
            await session.execute(insert(DirectiveTarget), rows[start : start + 5000])
        session.add(
            Member(
                telegram_user_id=1, chat_id=1, full_name="Ban Chỉ đạo", username=None, unit_id=1,
                role=Role.COORDINATOR, status=MemberStatus.ACTIVE, language="vi",
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
        await session.flush()
        await CountRepository(session).rebuild()  # duties and targets written past its paths
        return directive.id


def _root() -> Actor:
    return Actor(1, Role.COORDINATOR, MemberStatus.ACTIVE, "/1/", "bench")


async def _median(run: Callable[[], Awaitable[Any]]) -> float:
    await run()  # the page cache, once
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return sorted(times)[RUNS // 2] * 1000


async def _peer(db: Database, rows_of: Any, at_path: str) -> dict[str, list[int]]:
    """Read every duty row under ``at_path`` with its unit's path; count per child."""
    async with db.session() as session:
        counts: dict[str, list[int]] = {}
        for path, done in await session.execute(rows_of):
            if not path.startswith(at_path):
                continue
            rest = path[len(at_path) :]
            child = rest.split("/", 1)[0] or "self"
            tally = counts.setdefault(child, [0, 0])
            tally[0] += 1
            tally[1] += int(bool(done))
    return dict(sorted(counts.items(), key=lambda kv: kv[1][1] / kv[1][0])[:8])


async def views(url: str, units: int = 10_000, tasks: int = 50) -> dict[str, Any]:
    db = Database(url)
    await upgrade(db.engine)
    await _seed(db, units, tasks)
    now = datetime.now(UTC) + timedelta(days=1)
    directive_id = await _directive(db, now - timedelta(days=2))
    actor = _root()
    results: dict[str, Any] = {"units": units, "tasks": tasks, "dialect": db.engine.dialect.name}

    def page(kind: str, subject: int, at: int | None) -> Callable[[], Awaitable[Any]]:
        async def run() -> Any:
            async with db.session() as session:
                return await Rollups(session, actor, now).page(kind, subject, at, 0)

        return run

    task_rows = (
        select(Unit.path, TaskAssignment.state == "done")
        .join(Unit, Unit.id == TaskAssignment.unit_id)
        .where(TaskAssignment.task_id == 1)
    )
    all_rows = (
        select(Unit.path, TaskAssignment.state == "done")
        .join(Unit, Unit.id == TaskAssignment.unit_id)
        .join(Task, Task.id == TaskAssignment.task_id)
        .where(Task.closed_at.is_(None))
    )
    directive_rows = (
        select(Unit.path, DirectiveTarget.confirmed_at.is_not(None))
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .where(DirectiveTarget.directive_id == directive_id)
    )
    cases = (
        ("task_page", page("t", 1, None), task_rows, "/1/"),
        ("task_province_page", page("t", 1, 2), task_rows, "/1/2/"),
        ("whole_picture_page", page("a", 0, None), all_rows, "/1/"),
        ("directive_page", page("d", directive_id, None), directive_rows, "/1/"),
    )
    for name, fieldbot, rows, path in cases:
        ms = await _median(fieldbot)
        peer = await _median(lambda rows=rows, path=path: _peer(db, rows, path))
        results[name] = {"ms": round(ms, 1), "peer_ms": round(peer, 1), "x": round(peer / ms, 1)}

    async def digest() -> Any:
        async with db.session() as session:
            member = await session.scalar(select(Member).where(Member.unit_id == 1))
            assert member is not None
            return await digest_text(DigestRepository(session), member, now, now, UTC)

    results["committee_digest_ms"] = round(await _median(digest), 1)
    await db.dispose()
    return results
