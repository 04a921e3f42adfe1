"""Reachability apart from membership: ``members.unreachable_since`` replaces the status
"unreachable", which hid who someone was (a rejected or removed member became active again
once they wrote after a bounce).

Rows marked "unreachable" were members Telegram refused to deliver to; what they were before
was not kept. They become "active" and unreachable since their last change: only approved
members were ever sent anything that could bounce, save the rejection notice itself, and
treating those as active is what the old code did the moment they wrote again anyway.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

members = sa.table(
    "members",
    sa.column("status", sa.String(20)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("unreachable_since", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("unreachable_since", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        members.update()
        .where(members.c.status == "unreachable")
        .values(status="active", unreachable_since=members.c.updated_at)
    )


def downgrade() -> None:
    # Only active members could be written back as "unreachable" without losing who they are;
    # the others keep their status, as the old schema cannot say both.
    op.execute(
        members.update()
        .where(members.c.status == "active", members.c.unreachable_since.is_not(None))
        .values(status="unreachable")
    )
    with op.batch_alter_table("members") as batch:
        batch.drop_column("unreachable_since")
