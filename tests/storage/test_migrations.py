"""Alembic is the only way the schema changes: the migrations must build exactly the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import make_engine
from storage.migrate import current_revision, upgrade
from storage.models import Base


async def test_migrations_match_the_models(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    await upgrade(engine)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert diff == []
    assert {"units", "members", "invitations", "audit_events", "outbox"} <= tables
    assert await current_revision(engine) == "0004"
    await upgrade(engine)  # running again is harmless
    await engine.dispose()


async def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with engine.connect() as connection:
        mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        fks = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    await engine.dispose()
    assert (mode, fks) == ("wal", 1)
