"""Shared fixtures: a real database (SQLite file, or PostgreSQL when FIELDBOT_TEST_DATABASE_URL
names one), a session rolled back after each test, a movable clock, and small factories."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from storage.db import TrackedSession, make_engine
from storage.migrate import upgrade
from storage.repositories.counts import CountRepository
from storage.scratch import create_database, drop_database

PG_ENV = "FIELDBOT_TEST_DATABASE_URL"
START = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


def _pg_base() -> str | None:
    return os.environ.get(PG_ENV) or None


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database for the domain tests (each test rolls its work back)."""
    base = _pg_base()
    if base:
        url = asyncio.run(create_database(base))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'domain.db'}"
    asyncio.run(_migrate(url))
    yield url
    if base:
        asyncio.run(drop_database(base, url))


@pytest.fixture
async def fresh_url(tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of its own, for tests that commit (end-to-end, CLI)."""
    base = _pg_base()
    if not base:
        yield f"sqlite+aiosqlite:///{tmp_path / 'fieldbot.db'}"
        return
    url = await create_database(base)
    yield url
    await drop_database(base, url)


async def assert_counts_kept(session: AsyncSession) -> None:
    """The counts per subtree the writes kept are those the duties give (every test that
    writes duties checks every write path it takes)."""
    counts = CountRepository(session)
    kept, recounted = await counts.kept(), await counts.recount()
    for name, mine, truth in zip(("task", "directive"), kept, recounted, strict=True):
        wrong = {k: (mine.get(k), truth.get(k)) for k in mine.keys() | truth.keys()}
        wrong = {k: v for k, v in wrong.items() if v[0] != v[1]}
        assert not wrong, f"{name} counts drifted (kept, true): {dict(list(wrong.items())[:5])}"


@pytest.fixture
async def session(migrated_url: str) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back when the test ends."""
    engine = make_engine(migrated_url)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        db_session = AsyncSession(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            sync_session_class=TrackedSession,
        )
        try:
            yield db_session
            if db_session.in_transaction() and db_session.sync_session.is_active:
                await assert_counts_kept(db_session)
        finally:
            await db_session.close()
            await transaction.rollback()
    await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)
