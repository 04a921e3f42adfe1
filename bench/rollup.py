"""Dashboard roll-up: how every unit under a coordinator stands on every task.

10,000 units × 50 tasks (500,000 assignments). fieldbot asks the database for grouped counts
in one query; the peer reads the rows and counts them in Python, as a spreadsheet export would.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bench.harness import bench_plan, national_tree
from bot.core.clock import SystemClock
from bot.services.authz import Actor
from bot.services.units import import_units
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Task, TaskAssignment, TaskState, Unit
from storage.repositories.counts import CountRepository
from storage.repositories.tasks import TaskRepository

STATES = list(TaskState)


async def _seed(db: Database, units: int, tasks: int) -> None:
    now = datetime.now(UTC)
    rng = random.Random(3)
    async with db.session() as session:
        await import_units(session, SystemClock(), Actor.system(), national_tree(units))
        unit_ids = list(await session.scalars(select(Unit.id)))
        plan = await bench_plan(session, now)
        for number in range(tasks):
            task = Task(
                plan_id=plan.id,
                title=f"Task {number}",
                description="",
                deadline=now + timedelta(days=number),
                scope_unit_id=1,
                author_label="bench",
                created_at=now,
            )
            session.add(task)
            await session.flush()
            batch: list[dict[str, Any]] = [
                {
                    "task_id": task.id,
                    "unit_id": unit_id,
                    "state": rng.choice(STATES),
                    "progress": rng.choice((0, 25, 50, 75, 100)),
                    "late": rng.random() < 0.1,
                }
                for unit_id in unit_ids
            ]
            for start in range(0, len(batch), 5000):
                await session.execute(insert(TaskAssignment), batch[start : start + 5000])
        await CountRepository(session).rebuild()  # the duties were written past its write paths


async def _fieldbot(db: Database, path: str) -> float:
    async with db.session() as session:
        started = time.perf_counter()
        rollups = await TaskRepository(session).rollups(path)
        elapsed = time.perf_counter() - started
    assert rollups, "no roll-up"
    return elapsed


async def _peer(db: Database, path: str) -> float:
    async with db.session() as session:
        started = time.perf_counter()
        rows = await session.execute(
            select(TaskAssignment.task_id, TaskAssignment.state, Unit.path).join(
                Unit, Unit.id == TaskAssignment.unit_id
            )
        )
        counts: dict[tuple[int, str], int] = {}
        for task_id, state, unit_path in rows:
            if unit_path.startswith(path):
                counts[task_id, state] = counts.get((task_id, state), 0) + 1
        elapsed = time.perf_counter() - started
    assert counts
    return elapsed


async def rollup(url: str, units: int = 10_000, tasks: int = 50) -> dict[str, Any]:
    db = Database(url)
    await upgrade(db.engine)
    await _seed(db, units, tasks)
    results: dict[str, Any] = {"units": units, "tasks": tasks}
    for scope, path in (("whole_tree", "/1/"), ("one_province", "/1/2/")):
        await _fieldbot(db, path)  # warm the page cache once
        runs = sorted([await _fieldbot(db, path) for _ in range(5)])
        results[f"{scope}_ms"] = round(runs[2] * 1000, 1)
        results[f"{scope}_peer_ms"] = round(await _peer(db, path) * 1000, 1)
    await db.dispose()
    return results
