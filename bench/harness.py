"""The emulator in its own process, a control client, a seeded database, and measurements."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert

from bot.core.clock import SystemClock
from bot.core.config import Config
from bot.emulator.config import config_for_emulator
from bot.services.authz import Actor
from bot.services.directives import Target, send_directive
from bot.services.units import import_units
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Member, MemberStatus, Plan, Role
from storage.repositories.units import UnitRepository
from storage.scratch import create_database, drop_database

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Emulator:
    """``python -m bot.emulator`` in a child process, driven over its control endpoints."""

    def __init__(self, process: asyncio.subprocess.Process, base_url: str, token: str) -> None:
        self.process = process
        self.base_url = base_url
        self.token = token
        self.root = base_url.rsplit("/bot", 1)[0]
        self.http = httpx.AsyncClient(timeout=60)

    async def control(self, path: str, **body: Any) -> Any:
        response = await self.http.post(f"{self.root}/_control/{path}", json=body)
        response.raise_for_status()
        return response.json()

    async def stats(self) -> dict[str, Any]:
        response = await self.http.get(f"{self.root}/_control/stats")
        response.raise_for_status()
        return dict(response.json())

    async def limits(
        self, rate: float, latency: tuple[float, float] = (0.05, 0.15), retry_after: int = 5
    ) -> None:
        await self.control(
            "limits",
            enabled=True,
            global_rate=rate,
            global_burst=rate,
            global_retry_after=retry_after,
            latency_min=latency[0],
            latency_max=latency[1],
        )

    async def reset(self) -> None:
        await self.control("reset")


@asynccontextmanager
async def emulator_process() -> AsyncIterator[Emulator]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.emulator",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = (await process.stdout.readline()).decode().split()
    emulator = Emulator(process, line[0], line[1].split("=", 1)[1])
    try:
        yield emulator
    finally:
        await emulator.http.aclose()
        process.terminate()
        await process.wait()


def bot_config(emu: Emulator, db_url: str, **outbox: Any) -> Config:
    return config_for_emulator(emu.base_url, emu.token, db_url, request_timeout=30, **outbox)


def national_tree(units: int) -> bytes:
    """A units CSV: the committee, 63 provinces and communes under them, ``units`` in all."""
    rows = ["code,name,level,parent_code", "HQ,Bộ,ministry,"]
    rows += [f"P{p},Tỉnh {p},province,HQ" for p in range(63)]
    rows += [f"C{i},Xã {i},commune,P{i % 63}" for i in range(units - 64)]
    return "\n".join(rows).encode()


async def bench_plan(session: Any, now: datetime) -> Plan:
    """The plan the task benchmarks hang their tasks on, owned by the committee."""
    plan = Plan(
        code="333",
        title="bench",
        event_date=date(2030, 8, 19),
        owner_unit_id=1,
        settings={},
        created_at=now,
    )
    session.add(plan)
    await session.flush()
    return plan


@asynccontextmanager
async def temp_db(base: str | None = None) -> AsyncIterator[str]:
    """A fresh database for one scenario: a SQLite file, or a new database on the
    PostgreSQL server ``base`` (``FIELDBOT_BENCH_DATABASE_URL``) dropped afterwards."""
    if base:
        url = await create_database(base)
        try:
            yield url
        finally:
            await drop_database(base, url)
        return
    with tempfile.TemporaryDirectory(prefix="fieldbot-bench-") as folder:
        yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"


async def seed_broadcast(db_url: str, chat_ids: list[int]) -> tuple[int, float]:
    """One commune per member under 100 provinces, and a directive to every commune.

    Returns the directive id and how long writing its outbox rows took.
    """
    db = Database(db_url)
    await upgrade(db.engine)
    clock = SystemClock()
    rows = ["code,name,level,parent_code", "HQ,Ban Chỉ đạo,ministry,"]
    rows += [f"P{p},Tỉnh {p},province,HQ" for p in range(100)]
    rows += [f"C{i},Xã {i},commune,P{i % 100}" for i in range(len(chat_ids))]
    async with db.session() as session:
        await import_units(session, clock, Actor.system(), "\n".join(rows).encode())
    async with db.session() as session:
        ids = await UnitRepository(session).ids_by_code([f"C{i}" for i in range(len(chat_ids))])
        hq = await UnitRepository(session).get_by_code("HQ")
        assert hq is not None
        now = clock.now()
        members = [
            {
                "telegram_user_id": chat,
                "chat_id": chat,
                "full_name": f"Cán bộ {i}",
                "unit_id": ids[f"C{i}"],
                "role": Role.OFFICER,
                "status": MemberStatus.ACTIVE,
                "language": "vi",
                "created_at": now,
                "updated_at": now,
            }
            for i, chat in enumerate(chat_ids)
        ]
        members.append(
            {
                "telegram_user_id": 1,
                "chat_id": 1,
                "full_name": "Điều phối",
                "unit_id": hq.id,
                "role": Role.COORDINATOR,
                "status": MemberStatus.ACTIVE,
                "language": "vi",
                "created_at": now,
                "updated_at": now,
            }
        )
        await session.execute(insert(Member), members)
    async with db.session() as session:
        boss = Actor(None, Role.ADMIN, MemberStatus.ACTIVE, hq.path, "bench")
        started = asyncio.get_running_loop().time()
        sent = await send_directive(
            session,
            clock,
            boss,
            text="Triển khai Kế hoạch 333/KH-BCĐ; xác nhận đã nhận.",
            target=Target.parse("level:commune"),
            ack_by=datetime.now(UTC) + timedelta(days=1),
            urgent=False,
            tz=TZ,
        )
    enqueue_seconds = asyncio.get_running_loop().time() - started
    await db.dispose()
    return sent.directive_id, enqueue_seconds


@dataclass
class Delivery:
    sent: int
    lost: int
    duplicated: int
    rate: float
    seconds: float
    flood_429: int
    requests_during_ban: int

    def row(self) -> str:
        return (
            f"{self.rate:8.1f} msg/s  {self.sent:6d} sent  {self.lost:5d} lost  "
            f"{self.duplicated:4d} dup  {self.flood_429:4d}×429  "
            f"{self.requests_during_ban:4d} during ban  {self.seconds:7.1f} s"
        )


def delivery(stats: dict[str, Any], chat_ids: list[int]) -> Delivery:
    per_chat = stats["per_chat"]
    times = sorted(stats["send_times"])
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return Delivery(
        sent=stats["delivered"],
        lost=sum(1 for c in chat_ids if per_chat.get(str(c), 0) == 0),
        duplicated=sum(max(0, per_chat.get(str(c), 0) - 1) for c in chat_ids),
        rate=(len(times) - 1) / span if span else 0.0,
        seconds=span,
        flood_429=int(stats["errors"].get("429", 0)),
        requests_during_ban=int(stats["requests_during_ban"]),
    )


async def wait_delivered(emu: Emulator, count: int, within: float) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        stats = await emu.stats()
        if stats["chats"] >= count or asyncio.get_running_loop().time() > deadline:
            return stats
        await asyncio.sleep(0.5)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
