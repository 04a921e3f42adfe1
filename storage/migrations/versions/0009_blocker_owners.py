"""Blockers have an owner and an end: a coordinator above takes one ("đã nắm, đang xử lý")
and resolves it with a note (``task_assignments.blocker_*``), and ``blocker_alerts`` records
which outbox row told each coordinator of each blocker, so later ones within a few minutes
ride together in one message.

Assignments blocked before this revision have no owner: they count as not yet taken.

Revision ID: 0009_blocker_owners
Revises: 0008_directive_urgency
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_blocker_owners"
down_revision = "0008_directive_urgency"
branch_labels = None
depends_on = None

MEMBERS_FK = "fk_task_assignments_blocker_{}_by_id_members"


def upgrade() -> None:
    with op.batch_alter_table("task_assignments") as batch:
        batch.add_column(sa.Column("blocker_taken_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("blocker_taken_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("blocker_resolved_by_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("blocker_resolved_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("blocker_resolution", sa.Text(), nullable=True))
        batch.create_foreign_key(
            MEMBERS_FK.format("taken"), "members", ["blocker_taken_by_id"], ["id"]
        )
        batch.create_foreign_key(
            MEMBERS_FK.format("resolved"), "members", ["blocker_resolved_by_id"], ["id"]
        )
    op.create_table(
        "blocker_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_blocker_alerts_member_id_members"
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["task_reports.id"], name="fk_blocker_alerts_report_id_task_reports"
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_blocker_alerts_outbox_id_outbox"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_blocker_alerts"),
    )
    op.create_index("ix_blocker_alerts_member", "blocker_alerts", ["member_id", "id"])
    op.create_index("ix_blocker_alerts_report_id", "blocker_alerts", ["report_id"])
    op.create_index("ix_blocker_alerts_outbox_id", "blocker_alerts", ["outbox_id"])


def downgrade() -> None:
    op.drop_index("ix_blocker_alerts_outbox_id", "blocker_alerts")
    op.drop_index("ix_blocker_alerts_report_id", "blocker_alerts")
    op.drop_index("ix_blocker_alerts_member", "blocker_alerts")
    op.drop_table("blocker_alerts")
    with op.batch_alter_table("task_assignments") as batch:
        batch.drop_constraint(MEMBERS_FK.format("resolved"), type_="foreignkey")
        batch.drop_constraint(MEMBERS_FK.format("taken"), type_="foreignkey")
        batch.drop_column("blocker_resolution")
        batch.drop_column("blocker_resolved_at")
        batch.drop_column("blocker_resolved_by_id")
        batch.drop_column("blocker_taken_at")
        batch.drop_column("blocker_taken_by_id")
