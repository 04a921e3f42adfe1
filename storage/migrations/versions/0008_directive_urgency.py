"""Directives carry the urgency of Vietnamese official correspondence — Thường, Khẩn,
Thượng khẩn, Hỏa tốc — and an optional document number (số hiệu).

``urgent`` stays: it is what goes through quiet hours, true exactly for Hỏa tốc. Directives
written before this revision keep their meaning: an urgent one is Hỏa tốc, the others Thường.

Revision ID: 0008_directive_urgency
Revises: 0007_moving_deadlines
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_directive_urgency"
down_revision = "0007_moving_deadlines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("directives") as batch:
        batch.add_column(
            sa.Column("urgency", sa.String(20), nullable=False, server_default="thuong")
        )
        batch.add_column(sa.Column("document_number", sa.String(50), nullable=True))
    op.execute("UPDATE directives SET urgency = 'hoa_toc' WHERE urgent")


def downgrade() -> None:
    with op.batch_alter_table("directives") as batch:
        batch.drop_column("document_number")
        batch.drop_column("urgency")
