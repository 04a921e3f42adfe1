"""Messages in and out: the outbox, long texts held until their last part, reminder pauses,
the sweeps' marks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import (
    Base,
    CleanString,
    CleanText,
    OutboxStatus,
)


class OutboxMessage(Base):
    """One Bot API call to make on someone's behalf; drained by the outbox sender.

    ``method`` is the Bot API method, ``payload`` its parameters. ``ref`` groups copies of
    the same notification (e.g. ``approval:42``) so they can be edited together later.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "not_before", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    method: Mapped[str] = mapped_column(CleanString(40))
    payload: Mapped[dict[str, Any]]
    ref: Mapped[str | None] = mapped_column(CleanString(100), index=True)
    edit_of_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    status: Mapped[str] = mapped_column(CleanString(20), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(CleanText())


class ReminderPause(Base):
    """A coordinator stopped reminders and escalations for a unit until ``until``, saying why."""

    __tablename__ = "reminder_pauses"
    __table_args__ = (Index("ix_reminder_pauses_unit_until", "unit_id", "until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    reason: Mapped[str] = mapped_column(CleanText())
    until: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime]
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # When a sweep restarted the climb of the subtree's late units from the pause's end.
    settled_at: Mapped[datetime | None]


class SweepMark(Base):
    """When a scheduler job last ran, so the first run after downtime knows it is catching up."""

    __tablename__ = "sweep_marks"

    job: Mapped[str] = mapped_column(CleanString(40), primary_key=True)
    at: Mapped[datetime]


class HeldPart(Base):
    """A part of a long text the member's phone split (Telegram carries 4,096 characters a
    message), kept until the rest arrives so the text is read whole (``handlers/long_texts.py``)."""

    __tablename__ = "held_parts"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    update: Mapped[dict[str, Any]]  # the update as Telegram sent it
    held_at: Mapped[datetime]
