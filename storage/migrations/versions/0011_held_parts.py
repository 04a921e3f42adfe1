"""Held parts: a long text the phone split into messages is kept part by part until the
rest arrives, so it is read whole and survives a restart in between.

Revision ID: 0011_held_parts
Revises: 0010_counts
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_held_parts"
down_revision = "0010_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_parts",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("update", sa.JSON(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "message_id", name="pk_held_parts"),
    )


def downgrade() -> None:
    op.drop_table("held_parts")
