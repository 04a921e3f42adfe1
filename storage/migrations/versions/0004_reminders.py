"""The scheduler's stamps (reminders, escalation, digests) and paused reminders.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
STAMPED = {"task_assignments": "task_id", "directive_targets": "directive_id"}  # → subject


def _never() -> sa.TextClause:
    """The "not yet" stamp (1970-01-01 UTC) for rows that exist already."""
    if op.get_bind().dialect.name == "postgresql":
        return sa.text("'1970-01-01 00:00:00+00'")
    return sa.text("'1970-01-01 00:00:00.000000'")  # how SQLAlchemy writes SQLite datetimes


def upgrade() -> None:
    for table in STAMPED:
        op.add_column(
            table, sa.Column("last_reminder_due", TS, nullable=False, server_default=_never())
        )
        op.add_column(
            table,
            sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"),
        )
        op.create_index(f"ix_{table}_reminder", table, [STAMPED[table], "last_reminder_due"])
        op.create_index(f"ix_{table}_escalation", table, [STAMPED[table], "escalation_level"])
    op.add_column("members", sa.Column("last_digest_due", TS, nullable=True))
    op.create_table(
        "reminder_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", TS, nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("lifted_at", TS, nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["members.id"], name="fk_reminder_pauses_created_by_id_members"
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"], ["members.id"], name="fk_reminder_pauses_lifted_by_id_members"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_reminder_pauses_unit_id_units"),
        sa.PrimaryKeyConstraint("id", name="pk_reminder_pauses"),
    )
    op.create_index(
        "ix_reminder_pauses_unit_until", "reminder_pauses", ["unit_id", "until"], unique=False
    )


def downgrade() -> None:
    op.drop_table("reminder_pauses")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("last_digest_due")
    for table in STAMPED:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_reminder")
            batch.drop_index(f"ix_{table}_escalation")
            batch.drop_column("escalation_level")
            batch.drop_column("last_reminder_due")
