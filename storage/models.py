"""Typed SQLAlchemy models. Alembic migrations under ``storage/migrations`` mirror them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.core.parsing import clean_text


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware values")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CleanString(TypeDecorator[str]):
    """A text column that keeps only what every backend can store.

    PostgreSQL rejects NUL characters and no encoder takes a lone surrogate; cleaning here,
    at the one boundary every value crosses (also the values a query compares with), means
    no handler, import or form has to remember it.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else clean_text(value)


class CleanText(CleanString):
    impl = Text
    cache_ok = True  # SQLAlchemy asks each subclass on its own


NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # a stamp for "not yet": earlier than any due time

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Role(StrEnum):
    OFFICER = "officer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    OBSERVER = "observer"


class MemberStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    BLOCKED = "blocked"
    REJECTED = "rejected"


class TaskState(StrEnum):
    """A unit's status on a task (chưa bắt đầu / đang thực hiện / hoàn thành / gặp khó khăn)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


class ReportKind(StrEnum):
    REPORT = "report"  # a unit's report
    RETURN = "return"  # a coordinator sent the report back asking for more (yêu cầu bổ sung)


class Urgency(StrEnum):
    """Độ khẩn of official correspondence, least to most; only Hỏa tốc wakes people."""

    NORMAL = "thuong"  # Thường
    URGENT = "khan"  # Khẩn
    VERY_URGENT = "thuong_khan"  # Thượng khẩn
    FLASH = "hoa_toc"  # Hỏa tốc


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


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


class Plan(Base):
    """A plan (kế hoạch) such as "333/KH-BCĐ": tasks towards an event on ``event_date``.

    ``settings`` holds per-plan overrides (e.g. reminder offsets) over ``config.toml``.
    """

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(CleanString(64), unique=True)
    title: Mapped[str] = mapped_column(CleanString(300))
    event_date: Mapped[date]
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class Task(Base):
    """An item of a plan with a deadline, assigned to many units (nhiệm vụ)."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    title: Mapped[str] = mapped_column(CleanString(300))
    description: Mapped[str] = mapped_column(CleanText(), default="")
    deadline: Mapped[datetime] = mapped_column(index=True)
    # A deadline given relative to the plan's event ("event-14d"): minutes from the start of
    # the event day (local time), so moving the event moves it. None: an absolute deadline.
    event_offset_minutes: Mapped[int | None] = mapped_column(Integer)
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    author_label: Mapped[str] = mapped_column(CleanString(200))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class TaskAssignment(Base):
    """One unit's duty on one task and its latest status (the history is ``task_reports``)."""

    __tablename__ = "task_assignments"
    __table_args__ = (
        Index("ix_task_assignments_unit_state", "unit_id", "state"),
        # what a sweep looks up: the units of a task behind a due point or escalation level
        Index("ix_task_assignments_reminder", "task_id", "last_reminder_due"),
        Index("ix_task_assignments_escalation", "task_id", "escalation_level"),
    )

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    state: Mapped[str] = mapped_column(CleanString(20), default=TaskState.NOT_STARTED)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime | None]
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    returned_at: Mapped[datetime | None]
    return_comment: Mapped[str | None] = mapped_column(CleanText())
    # Stamps of the scheduler: the due time of the last reminder or overdue notice sent
    # (NEVER if none), and how many levels up the tree the unit's lateness has been reported.
    last_reminder_due: Mapped[datetime] = mapped_column(default=NEVER)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None]  # when the last reminder or notice was queued
    escalated_at: Mapped[datetime | None]  # when the last escalation step was queued
    # When lateness began, if later than the deadline (a report sent back late, a pause
    # lifted): the climb up the tree counts from it, one level at a time.
    escalate_from: Mapped[datetime | None]
    # A blocker (gặp khó khăn) a coordinator above took on ("đã nắm, đang xử lý") and later
    # resolved with a note; cleared when the unit reports blocked again. A taken blocker
    # that is not resolved does not climb the tree.
    blocker_taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    blocker_taken_at: Mapped[datetime | None]
    blocker_resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    blocker_resolved_at: Mapped[datetime | None]
    blocker_resolution: Mapped[str | None] = mapped_column(CleanText())


class BlockerAlert(Base):
    """A blocker (or a note added to one) as it reached one coordinator: in which outbox row.

    The first blocker to a coordinator goes at once; those that follow within a short window
    ride together in one later row, which is rewritten (while still pending) as more come.
    """

    __tablename__ = "blocker_alerts"
    __table_args__ = (Index("ix_blocker_alerts_member", "member_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    report_id: Mapped[int] = mapped_column(ForeignKey("task_reports.id"), index=True)
    kind: Mapped[str] = mapped_column(CleanString(10))  # "report" | "note"
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    created_at: Mapped[datetime]


class TaskReport(Base):
    """Every report ever made on a task, and every request for more, with who and when.

    ``reported_at`` is the member's own time (their message's date); ``received_at`` is when
    the bot took it in. ``attachments`` is a list of ``{"kind": "photo"|"document", ...}``.
    """

    __tablename__ = "task_reports"
    __table_args__ = (Index("ix_task_reports_task_unit", "task_id", "unit_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(CleanString(20), default=ReportKind.REPORT)
    state: Mapped[str] = mapped_column(CleanString(20))
    progress: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(CleanText(), default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reported_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(index=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class Initiative(Base):
    """An initiative or good model (sáng kiến / mô hình hay) a unit submitted."""

    __tablename__ = "initiatives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(CleanText())
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    featured_at: Mapped[datetime | None]
    featured_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    featured_scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))


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


class TaskCount(Base):
    """How the duties of one task stand in the subtree of one unit (that unit included), kept
    in step by every write of an assignment (``storage/repositories/counts.py``): a roll-up
    line reads one row instead of the subtree's duties."""

    __tablename__ = "task_counts"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
    duties: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)  # finished: done and not sent back
    doing: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    idle: Mapped[int] = mapped_column(Integer, default=0)  # not started
    returned: Mapped[int] = mapped_column(Integer, default=0)
    unfinished: Mapped[int] = mapped_column(Integer, default=0)  # late once the deadline passes
    progress: Mapped[int] = mapped_column(Integer, default=0)  # the sum of the duties' %
    unstaffed: Mapped[int] = mapped_column(Integer, default=0)  # duties of units nobody is in


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
