"""Reminders people can live with: when each duty was last reminded and escalated, and from
when its lateness counts; when a sweep settled the end of a pause.

``reminded_at`` lets a sweep say nothing twice in a day and count a directive's interval from
its delivery; ``escalated_at`` and ``escalate_from`` make the climb up the tree go one level
at a time from the moment a unit became late; ``settled_at`` marks a pause whose end the
sweeps have applied; ``sweep_marks`` keeps when each job last ran, so the first sweep after
downtime says it is a catch-up.

Revision ID: 0006_reminder_stamps
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reminder_stamps"
down_revision = "0005"
branch_labels = None
depends_on = None

DUTIES = ("task_assignments", "directive_targets")
STAMPS = ("reminded_at", "escalated_at", "escalate_from")


def upgrade() -> None:
    for table in DUTIES:
        with op.batch_alter_table(table) as batch:
            for column in STAMPS:
                batch.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("reminder_pauses") as batch:
        batch.add_column(sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "sweep_marks",
        sa.Column("job", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_sweep_marks")),
    )


def downgrade() -> None:
    op.drop_table("sweep_marks")
    with op.batch_alter_table("reminder_pauses") as batch:
        batch.drop_column("settled_at")
    for table in DUTIES:
        with op.batch_alter_table(table) as batch:
            for column in STAMPS:
                batch.drop_column(column)
