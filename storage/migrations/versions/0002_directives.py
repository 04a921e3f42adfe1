"""Directives with per-unit confirmation, saved unit groups, and chat drafts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "unit_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_unit_groups"),
        sa.UniqueConstraint("name", name="uq_unit_groups_name"),
    )
    op.create_table(
        "unit_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["unit_groups.id"], name="fk_unit_group_members_group_id_unit_groups"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name="fk_unit_group_members_unit_id_units"
        ),
        sa.PrimaryKeyConstraint("group_id", "unit_id", name="pk_unit_group_members"),
    )
    op.create_table(
        "directives",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("author_member_id", sa.Integer(), nullable=True),
        sa.Column("author_label", sa.String(200), nullable=False),
        sa.Column("scope_unit_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("document_file_id", sa.String(200), nullable=True),
        sa.Column("ack_by", TS, nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_text", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("amended_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["author_member_id"], ["members.id"], name="fk_directives_author_member_id_members"
        ),
        sa.ForeignKeyConstraint(
            ["scope_unit_id"], ["units.id"], name="fk_directives_scope_unit_id_units"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_directives"),
    )
    op.create_index("ix_directives_scope_unit_id", "directives", ["scope_unit_id"])
    op.create_table(
        "directive_targets",
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", TS, nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_version", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directives.id"],
            name="fk_directive_targets_directive_id_directives",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name="fk_directive_targets_unit_id_units"
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["members.id"], name="fk_directive_targets_confirmed_by_id_members"
        ),
        sa.PrimaryKeyConstraint("directive_id", "unit_id", name="pk_directive_targets"),
    )
    op.create_index("ix_directive_targets_unit_id", "directive_targets", ["unit_id"])
    op.create_table(
        "directive_confirmations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directives.id"],
            name="fk_directive_confirmations_directive_id_directives",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name="fk_directive_confirmations_unit_id_units"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_directive_confirmations_member_id_members"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_directive_confirmations"),
    )
    op.create_index(
        "ix_directive_confirmations_directive_id", "directive_confirmations", ["directive_id"]
    )
    op.create_table(
        "drafts",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("step", sa.String(30), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name="fk_drafts_member_id_members"),
        sa.PrimaryKeyConstraint("member_id", name="pk_drafts"),
    )


def downgrade() -> None:
    for table in (
        "drafts",
        "directive_confirmations",
        "directive_targets",
        "directives",
        "unit_group_members",
        "unit_groups",
    ):
        op.drop_table(table)
