"""The organisation: units, members, invitations, saved groups, open forms, the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import (
    Base,
    CleanString,
)


class Unit(Base):
    """A node of the organisation tree; ``path`` ("/1/7/42/") makes subtree tests a prefix test."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(CleanString(64), unique=True)
    name: Mapped[str] = mapped_column(CleanString(200))
    level: Mapped[str] = mapped_column(CleanString(50))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    path: Mapped[str] = mapped_column(CleanString(1024), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    full_name: Mapped[str] = mapped_column(CleanString(200))
    username: Mapped[str | None] = mapped_column(CleanString(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(CleanString(20))
    status: Mapped[str] = mapped_column(CleanString(20), index=True)
    language: Mapped[str] = mapped_column(CleanString(8))
    # Reachability is a fact about delivery, not about who someone is: set when Telegram
    # refuses to deliver (403), cleared when they write to the bot again. Never a status.
    unreachable_since: Mapped[datetime | None]
    last_digest_due: Mapped[datetime | None]  # the daily digest last sent (its due time)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    unit: Mapped[Unit] = relationship(lazy="joined", innerjoin=True)


class Invitation(Base):
    """An invitation link; only the SHA-256 of its code is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(CleanString(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(CleanString(20))
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", use_alter=True))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class RedeemAttempt(Base):
    """A failed /start <code> try, kept to limit guessing per Telegram user."""

    __tablename__ = "redeem_attempts"
    __table_args__ = (Index("ix_redeem_attempts_user_at", "telegram_user_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    actor_label: Mapped[str] = mapped_column(CleanString(100))
    action: Mapped[str] = mapped_column(CleanString(50), index=True)
    subject: Mapped[str] = mapped_column(CleanString(100))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class UnitGroup(Base):
    """A saved, named set of units, e.g. "5 địa phương tổ chức điểm"."""

    __tablename__ = "unit_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(CleanString(100), unique=True)
    created_at: Mapped[datetime]


class UnitGroupMember(Base):
    __tablename__ = "unit_group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("unit_groups.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)


class Draft(Base):
    """A multi-step form a member is filling in chat (e.g. composing a directive).

    Kept in the database, not in memory, so a restart loses nothing.
    """

    __tablename__ = "drafts"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(CleanString(30))
    step: Mapped[str] = mapped_column(CleanString(30))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
