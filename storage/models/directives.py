"""Directives, their targets, confirmations and counts per subtree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import (
    NEVER,
    Base,
    CleanString,
    CleanText,
    Urgency,
)


class Directive(Base):
    """A message to many units that each must confirm by ``ack_by``; amendments bump version."""

    __tablename__ = "directives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    author_label: Mapped[str] = mapped_column(CleanString(200))
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    text: Mapped[str] = mapped_column(CleanText())
    document_file_id: Mapped[str | None] = mapped_column(CleanString(200))
    ack_by: Mapped[datetime]
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # Hỏa tốc: through quiet hours
    urgency: Mapped[str] = mapped_column(
        CleanString(20), default=Urgency.NORMAL, server_default=Urgency.NORMAL
    )
    document_number: Mapped[str | None] = mapped_column(CleanString(50))  # số hiệu
    version: Mapped[int] = mapped_column(Integer, default=1)
    previous_text: Mapped[str | None] = mapped_column(CleanText())
    created_at: Mapped[datetime]
    amended_at: Mapped[datetime | None]


class DirectiveTarget(Base):
    """One unit's duty to confirm one directive; the unit's latest state."""

    __tablename__ = "directive_targets"
    __table_args__ = (
        Index("ix_directive_targets_reminder", "directive_id", "last_reminder_due"),
        Index("ix_directive_targets_escalation", "directive_id", "escalation_level"),
    )

    directive_id: Mapped[int] = mapped_column(ForeignKey("directives.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    confirmed_version: Mapped[int | None] = mapped_column(Integer)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Stamps of the scheduler: the due time of the last re-reminder sent (NEVER if none), and
    # how many levels up the tree the unit's silence has been reported.
    last_reminder_due: Mapped[datetime] = mapped_column(default=NEVER)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None]  # when the last re-reminder was queued
    escalated_at: Mapped[datetime | None]  # when the last escalation step was queued
    # When lateness began, if later than the deadline (a pause lifted): the climb counts from it.
    escalate_from: Mapped[datetime | None]


class DirectiveConfirmation(Base):
    """Every confirmation ever made, kept as history (amendments ask for new ones)."""

    __tablename__ = "directive_confirmations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directives.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class DirectiveCount(Base):
    """How the targets of one directive stand in the subtree of one unit, kept like
    :class:`TaskCount`."""

    __tablename__ = "directive_counts"

    directive_id: Mapped[int] = mapped_column(ForeignKey("directives.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
    units: Mapped[int] = mapped_column(Integer, default=0)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    after_deadline: Mapped[int] = mapped_column(Integer, default=0)  # confirmed, but late
    unstaffed: Mapped[int] = mapped_column(Integer, default=0)
