"""The scheduler's reminder sweep over 10,000 units × 50 tasks (500,000 assignments).

Four moments: a sweep when one task's reminder point comes for all its units; a routine
sweep when nothing new is due (what runs every 30 s); the catch-up after weeks of downtime,
when every task is overdue and escalated at once (spread over budgeted sweeps); and the
routine sweep after that, when every task has a passed point and all 500,000 assignments
must be checked against their stamps. The peer is the plain cron script: read every
assignment with its stamps and decide row by row in Python (deciding only; it writes
nothing). Memory is Python's peak allocation during a sweep (tracemalloc), measured in a
second pass over a copy of the database so that it does not slow the timed pass.
"""

from __future__ import annotations

import random
import shutil
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from bench.harness import bench_plan, national_tree
from bot.core.clock import SystemClock
from bot.core.config import RemindersConfig
from bot.services import digests, reminders
from bot.services.authz import Actor
from bot.services.quiet import QuietHours
from bot.services.units import import_units
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Member, MemberStatus, Role, Task, TaskAssignment, TaskState, Unit
from storage.repositories.counts import CountRepository

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2030, 7, 1, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội: outside quiet hours
CONFIG = RemindersConfig()


async def _seed(db: Database, units: int, tasks: int) -> None:
    """One officer per unit, a coordinator per province; deadlines an hour apart."""
    rng = random.Random(5)
    async with db.session() as session:
        await import_units(session, SystemClock(), Actor.system(), national_tree(units))
        found = (await session.execute(select(Unit.id, Unit.depth))).all()
        people = [
            {
                "telegram_user_id": 10_000_000 + unit_id,
                "chat_id": 10_000_000 + unit_id,
                "full_name": f"Cán bộ {unit_id}",
                "unit_id": unit_id,
                "role": Role.COORDINATOR if depth < 2 else Role.OFFICER,
                "status": MemberStatus.ACTIVE,
                "language": "vi",
                "created_at": T0,
                "updated_at": T0,
            }
            for unit_id, depth in found
        ]
        for start in range(0, len(people), 5000):
            await session.execute(insert(Member), people[start : start + 5000])
        plan = await bench_plan(session, T0)
        for number in range(tasks):
            task = Task(
                plan_id=plan.id,
                title=f"Nhiệm vụ {number}",
                description="",
                deadline=T0 + timedelta(days=10, hours=number),
                scope_unit_id=1,
                author_label="bench",
                created_at=T0,
            )
            session.add(task)
            await session.flush()
            batch: list[dict[str, Any]] = [
                {"task_id": task.id, "unit_id": unit_id, "state": rng.choice(list(TaskState))}
                for unit_id, _ in found
            ]
            for start in range(0, len(batch), 5000):
                await session.execute(insert(TaskAssignment), batch[start : start + 5000])
        await CountRepository(session).rebuild()  # the duties were written past its write paths


async def _measure(run: Callable[[], Awaitable[Any]], memory: bool) -> tuple[float, Any]:
    """Seconds of one run, or (on the copy of the database) Python's peak MB during it."""
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    result = await run()
    value = time.perf_counter() - started
    if memory:
        value = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return value, result


async def _fieldbot(db: Database, now: datetime, memory: bool) -> tuple[float, Any]:
    async def run() -> reminders.SweepReport:
        async with db.session() as session:
            return await reminders.sweep(session, now, CONFIG, TZ)

    return await _measure(run, memory)


async def _digests(db: Database, now: datetime, memory: bool) -> tuple[float, Any]:
    """One run of the digest job: HQ's and every province's coordinator over their subtree."""

    async def run() -> int:
        async with db.session() as session:
            return await digests.send_digests(session, now, CONFIG, TZ)

    return await _measure(run, memory)


async def _peer(db: Database, now: datetime, memory: bool) -> tuple[float, Any]:
    async def run() -> int:
        due = 0
        async with db.session() as session:
            rows = await session.execute(
                select(
                    TaskAssignment.unit_id,
                    TaskAssignment.state,
                    TaskAssignment.last_reminder_due,
                    Task.deadline,
                    Task.created_at,
                ).join(Task, Task.id == TaskAssignment.task_id)
            )
            quiet = QuietHours.within(CONFIG, TZ)
            for _unit, state, stamp, deadline, created in rows.all():
                delivered = quiet.delivery(created, deadline)
                point = reminders.reminder_point(CONFIG, quiet, deadline, delivered, now)
                if state != TaskState.DONE and point and (stamp is None or stamp < point):
                    due += 1
        return due

    return await _measure(run, memory)


async def _moments(db: Database, memory: bool) -> dict[str, Any]:
    """The three moments, in order, on one database: seconds (or peak MB) and counts."""
    key = "peak_mb" if memory else "seconds"
    first_point = T0 + timedelta(days=7, minutes=30)  # task 0's 3-day reminder, nothing else
    await _fieldbot(db, first_point - timedelta(days=1), memory)  # warm the cache; none due
    value, report = await _fieldbot(db, first_point, memory)
    results: dict[str, Any] = {"one_point": {key: value, "reminded_units": report.reminders}}
    value, report = await _fieldbot(db, first_point + timedelta(minutes=1), memory)
    assert not report, report
    results["routine"] = {key: value}
    value, due = await _peer(db, first_point + timedelta(minutes=1), memory)
    results["routine_peer"] = {key: value, "due": due}
    weeks_later = T0 + timedelta(days=40)
    sweeps: list[float] = []
    totals = {"overdue_units": 0, "escalated_units": 0, "messages": 0}
    while True:  # the scheduler would run these 30 s apart; each one is bounded by its budget
        value, report = await _fieldbot(db, weeks_later, memory)
        sweeps.append(value)
        totals["overdue_units"] += report.overdue
        totals["escalated_units"] += report.escalations
        totals["messages"] += report.messages
        if not report.unfinished:
            break
    results["catch_up_everything"] = {
        f"first_sweep_{key}": sweeps[0],
        f"max_sweep_{key}": max(sweeps),
        f"total_{key}" if not memory else "sweeps": sum(sweeps) if not memory else len(sweeps),
        **totals,
    }
    # Every task now has a passed point and every unit a stamp: each sweep must look at all
    # 500,000 assignments (reminder and escalation stamps alike) to find that nothing is due.
    value, report = await _fieldbot(db, weeks_later + timedelta(minutes=1), memory)
    assert not report, report
    results["routine_all_stamped"] = {key: value}
    value, due = await _peer(db, weeks_later + timedelta(minutes=1), memory)
    results["routine_all_stamped_peer"] = {key: value, "due": due}
    morning = datetime.combine(
        (weeks_later + timedelta(days=1)).astimezone(TZ).date(), CONFIG.digest_time, TZ
    )
    value, sent = await _digests(db, morning, memory)
    results["digests"] = {key: value, "coordinators": sent}
    return results


async def sweep(url: str, units: int = 10_000, tasks: int = 50) -> dict[str, Any]:
    db = Database(url)
    await upgrade(db.engine)
    await _seed(db, units, tasks)
    await db.dispose()
    copy = Path(make_url(url).database or "").with_suffix(".copy.db")
    shutil.copyfile(make_url(url).database or "", copy)
    results: dict[str, Any] = {"units": units, "tasks": tasks, "assignments": units * tasks}
    for memory, target in ((False, url), (True, f"sqlite+aiosqlite:///{copy}")):
        db = Database(target)
        for moment, figures in (await _moments(db, memory)).items():
            merged = results.setdefault(moment, {})
            merged.update(
                {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
            )
        await db.dispose()
    return results
