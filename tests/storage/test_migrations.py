"""Alembic is the only way the schema changes: the migrations must build exactly the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import make_engine
from storage.migrate import alembic_config, current_revision, upgrade
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
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    assert await current_revision(engine) == head
    await upgrade(engine)  # running again is harmless
    await engine.dispose()


async def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with engine.connect() as connection:
        mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        fks = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    await engine.dispose()
    assert (mode, fks) == ("wal", 1)


async def test_assignments_made_before_the_scheduler_get_the_not_yet_stamp(
    fresh_url: str,
) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import select, text

    from storage.models import NEVER, TaskAssignment

    engine = make_engine(fresh_url)
    await upgrade(engine, "0003")
    now = datetime(2026, 7, 1, tzinfo=UTC).replace(tzinfo=None).isoformat(" ")
    statements = [
        "INSERT INTO units (id, code, name, level, path, depth, created_at, updated_at) "
        f"VALUES (1, 'A', 'A', 'ministry', '/1/', 0, '{now}', '{now}')",
        "INSERT INTO plans (id, code, title, event_date, owner_unit_id, settings, created_at) "
        f"VALUES (1, 'P', 'P', '2026-08-19', 1, '{{}}', '{now}')",
        "INSERT INTO tasks (id, plan_id, title, description, deadline, scope_unit_id, "
        f"author_label, created_at) VALUES (1, 1, 'T', '', '{now}', 1, 'x', '{now}')",
        "INSERT INTO task_assignments (task_id, unit_id, state, progress, late) "
        "VALUES (1, 1, 'not_started', 0, false)",
    ]
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    await upgrade(engine)
    async with engine.connect() as connection:
        row = (await connection.execute(select(TaskAssignment))).one()
    await engine.dispose()
    assert (row.last_reminder_due, row.escalation_level) == (NEVER, 0)


async def test_unreachable_members_become_active_and_unreachable_and_back(fresh_url: str) -> None:
    """0005: the status "unreachable" becomes a fact beside the status, and back on downgrade."""
    from alembic import command
    from sqlalchemy import text

    from storage.migrate import alembic_config

    engine = make_engine(fresh_url)
    await upgrade(engine, "0004")
    now = "2026-07-01 02:00:00"
    statements = [
        "INSERT INTO units (id, code, name, level, path, depth, created_at, updated_at) "
        f"VALUES (1, 'A', 'A', 'ministry', '/1/', 0, '{now}', '{now}')",
        *(
            "INSERT INTO members (id, telegram_user_id, chat_id, full_name, unit_id, role, "
            f"status, language, created_at, updated_at) VALUES ({i}, {i}, {i}, 'M', 1, "
            f"'officer', '{status}', 'vi', '{now}', '{now}')"
            for i, status in ((1, "unreachable"), (2, "rejected"), (3, "active"))
        ),
    ]
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    await upgrade(engine)
    query = text("SELECT id, status, unreachable_since IS NOT NULL FROM members ORDER BY id")
    async with engine.connect() as connection:
        rows = [tuple(r) for r in await connection.execute(query)]
    assert rows == [(1, "active", True), (2, "rejected", False), (3, "active", False)]

    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0004"))
    async with engine.connect() as connection:
        statuses = list(await connection.scalars(text("SELECT status FROM members ORDER BY id")))
    await engine.dispose()
    assert statuses == ["unreachable", "rejected", "active"]
