"""Plans, tasks, duties, reports, blocker alerts, initiatives and counts per subtree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
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
    ReportKind,
    TaskState,
)


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
