"""Deadlines that move with the event: ``tasks.event_offset_minutes`` keeps how a deadline
was given relative to its plan's event day ("event-14d" is -14 days at 23:59), so moving the
event date moves it.

Tasks written before this revision have no offset: whether their deadline was typed relative
to the event was not kept, and guessing from the time of day would move absolute deadlines.
They stay where they are when the event moves (a plan file imported again with ``--update``
names them, and then records their offset).

Revision ID: 0007_moving_deadlines
Revises: 0006_reminder_stamps
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_moving_deadlines"
down_revision = "0006_reminder_stamps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("event_offset_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("event_offset_minutes")
