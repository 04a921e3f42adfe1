"""Plans, tasks with per-unit status and report history, and initiatives.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "initiatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("featured_at", TS, nullable=True),
        sa.Column("featured_by_id", sa.Integer(), nullable=True),
        sa.Column("featured_scope_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["featured_by_id"], ["members.id"], name="fk_initiatives_featured_by_id_members"
        ),
        sa.ForeignKeyConstraint(
            ["featured_scope_unit_id"],
            ["units.id"],
            name="fk_initiatives_featured_scope_unit_id_units",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_initiatives_member_id_members"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_initiatives_unit_id_units"),
        sa.PrimaryKeyConstraint("id", name="pk_initiatives"),
    )
    op.create_index("ix_initiatives_unit_id", "initiatives", ["unit_id"], unique=False)
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["members.id"], name="fk_plans_created_by_id_members"
        ),
        sa.ForeignKeyConstraint(
            ["owner_unit_id"], ["units.id"], name="fk_plans_owner_unit_id_units"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_plans"),
        sa.UniqueConstraint("code", name="uq_plans_code"),
    )
    op.create_index("ix_plans_owner_unit_id", "plans", ["owner_unit_id"], unique=False)
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("scope_unit_id", sa.Integer(), nullable=False),
        sa.Column("author_member_id", sa.Integer(), nullable=True),
        sa.Column("author_label", sa.String(length=200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_member_id"], ["members.id"], name="fk_tasks_author_member_id_members"
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["members.id"], name="fk_tasks_closed_by_id_members"
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name="fk_tasks_plan_id_plans"),
        sa.ForeignKeyConstraint(
            ["scope_unit_id"], ["units.id"], name="fk_tasks_scope_unit_id_units"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
    )
    op.create_index("ix_tasks_deadline", "tasks", ["deadline"], unique=False)
    op.create_index("ix_tasks_plan_id", "tasks", ["plan_id"], unique=False)
    op.create_index("ix_tasks_scope_unit_id", "tasks", ["scope_unit_id"], unique=False)
    op.create_table(
        "task_assignments",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("reported_at", TS, nullable=True),
        sa.Column("reported_by_id", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("returned_at", TS, nullable=True),
        sa.Column("return_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reported_by_id"], ["members.id"], name="fk_task_assignments_reported_by_id_members"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_task_assignments_task_id_tasks"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name="fk_task_assignments_unit_id_units"
        ),
        sa.PrimaryKeyConstraint("task_id", "unit_id", name="pk_task_assignments"),
    )
    op.create_index(
        "ix_task_assignments_unit_state", "task_assignments", ["unit_id", "state"], unique=False
    )
    op.create_table(
        "task_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("reported_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_task_reports_member_id_members"
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_task_reports_task_id_tasks"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_task_reports_unit_id_units"),
        sa.PrimaryKeyConstraint("id", name="pk_task_reports"),
    )
    op.create_index("ix_task_reports_received_at", "task_reports", ["received_at"], unique=False)
    op.create_index(
        "ix_task_reports_task_unit", "task_reports", ["task_id", "unit_id", "id"], unique=False
    )


def downgrade() -> None:
    for table in ("task_reports", "task_assignments", "tasks", "plans", "initiatives"):
        op.drop_table(table)
