"""Counts per subtree: ``task_counts`` and ``directive_counts`` hold, for every unit and
every task or directive reaching its subtree, how the subtree's duties stand — kept in step
by each write of an assignment or a target, so a roll-up line reads one row instead of
thousands. Filled here from the rows already in the database.

Revision ID: 0010_counts
Revises: 0009_blocker_owners
Create Date: 2026-12-04
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0010_counts"
down_revision = "0009_blocker_owners"
branch_labels = None
depends_on = None

TASK_COLUMNS = (
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
DIRECTIVE_COLUMNS = ("units", "confirmed", "after_deadline", "unstaffed")


def _table(name: str, subject: str, referred: str, columns: tuple[str, ...]) -> None:
    op.create_table(
        name,
        sa.Column(subject, sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in columns),
        sa.ForeignKeyConstraint(
            [subject], [f"{referred}.id"], name=f"fk_{name}_{subject}_{referred}"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=f"fk_{name}_unit_id_units"),
        sa.PrimaryKeyConstraint(subject, "unit_id", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_unit_id", name, ["unit_id"])


def _fill(bind: sa.Connection) -> None:
    """The same sums as ``storage/repositories/counts.py: recount``, written out so that this
    revision does not change when the application's code does."""
    up = {
        unit_id: [int(part) for part in path.strip("/").split("/")]
        for unit_id, path in bind.execute(sa.text("SELECT id, path FROM units"))
    }
    staffed = {
        row[0]
        for row in bind.execute(
            sa.text("SELECT DISTINCT unit_id FROM members WHERE status = 'active'")
        )
    }
    tasks: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * len(TASK_COLUMNS))
    rows = bind.execute(
        sa.text("SELECT task_id, unit_id, state, progress, returned_at FROM task_assignments")
    )
    for task_id, unit_id, state, progress, returned_at in rows:
        returned = returned_at is not None
        done = state == "done" and not returned
        row: tuple[int | bool, ...] = (
            1,
            done,
            state == "in_progress",
            state == "blocked",
            state == "not_started",
            returned,
            not done,
            progress or 0,
            unit_id not in staffed,
        )
        for above in up[unit_id]:
            sums = tasks[task_id, above]
            for i, value in enumerate(row):
                sums[i] += int(value)
    directives: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * 4)
    rows = bind.execute(
        sa.text("SELECT directive_id, unit_id, confirmed_at, late FROM directive_targets")
    )
    for directive_id, unit_id, confirmed_at, late in rows:
        confirmed = confirmed_at is not None
        row = (1, confirmed, confirmed and bool(late), unit_id not in staffed)  # same shape
        for above in up[unit_id]:
            sums = directives[directive_id, above]
            for i, value in enumerate(row):
                sums[i] += int(value)
    for name, subject, columns, found in (
        ("task_counts", "task_id", TASK_COLUMNS, tasks),
        ("directive_counts", "directive_id", DIRECTIVE_COLUMNS, directives),
    ):
        table = sa.table(name, *(sa.column(c) for c in (subject, "unit_id", *columns)))
        values = [
            {subject: key[0], "unit_id": key[1], **dict(zip(columns, sums, strict=True))}
            for key, sums in found.items()
        ]
        for start in range(0, len(values), 5000):
            bind.execute(sa.insert(table), values[start : start + 5000])


def upgrade() -> None:
    _table("task_counts", "task_id", "tasks", TASK_COLUMNS)
    _table("directive_counts", "directive_id", "directives", DIRECTIVE_COLUMNS)
    _fill(op.get_bind())


def downgrade() -> None:
    for name in ("directive_counts", "task_counts"):
        op.drop_index(f"ix_{name}_unit_id", name)
        op.drop_table(name)
