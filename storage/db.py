"""Engine and session factory; one session per update or job, committed at its boundary.

Each commit that wrote something is noted for the task that made it (``saved_in_this_task``),
so the generic error reply can say truthfully whether the member's action was kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storage.repositories.counts import apply_pending

# The task whose session last committed a write, set in that task's context. A task started
# later (each update python-telegram-bot handles) inherits a copy of the value but is another
# task, so it never takes its parent's saves (start-up's, say) for its own.
_saved_by: ContextVar[asyncio.Task[Any] | None] = ContextVar("fieldbot_saved_by", default=None)
_WROTE = "fieldbot_wrote"


class TrackedSession(Session):
    """A session that remembers whether it changed anything (ORM flush or bulk statement)."""


@event.listens_for(TrackedSession, "after_flush")
def _flushed(session: Session, _flush: UOWTransaction) -> None:
    session.info[_WROTE] = True


@event.listens_for(TrackedSession, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(TrackedSession, "before_commit")
def _counts(session: Session) -> None:
    apply_pending(session)  # the counts per subtree, in the same transaction as the duties


def saved_in_this_task() -> bool:
    """Whether a session opened in the current task (update, job) committed a change."""
    task = asyncio.current_task()
    return task is not None and _saved_by.get() is task


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, echo: bool = False) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL and foreign keys, and its folder is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True)


class DatabaseUnreachable(Exception):  # noqa: N818 - reads as what happened
    """The database did not answer: where it was looked for (no password) and why, one line."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


class Database:
    """Owns the engine and hands out transactional sessions."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo)
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=TrackedSession
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed when the block ends, rolled back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
                if session.sync_session.info.pop(_WROTE, False):
                    _saved_by.set(asyncio.current_task())
            except BaseException:
                await session.rollback()
                raise

    @staticmethod
    def saved_in_this_task() -> bool:
        """Whether a session opened in the current task committed a change (see above)."""
        return saved_in_this_task()

    async def reach(self) -> None:
        """Open one connection, or raise DatabaseUnreachable saying why (refused, unknown
        host, no such database, wrong password)."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (OSError, DBAPIError) as error:
            where = make_url(self.url).render_as_string(hide_password=True)
            cause = getattr(error, "orig", None) or error
            reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
            raise DatabaseUnreachable(where, reason[:200]) from error

    async def dispose(self) -> None:
        await self.engine.dispose()
