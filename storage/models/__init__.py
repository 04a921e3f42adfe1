"""Typed SQLAlchemy models, one module per part of the domain. Alembic migrations under
``storage/migrations`` mirror them; importing this package registers every table."""

from __future__ import annotations

from storage.models.base import (
    NAMING,
    NEVER,
    Base,
    CleanString,
    CleanText,
    MemberStatus,
    OutboxStatus,
    ReportKind,
    Role,
    TaskState,
    Urgency,
    UTCDateTime,
)
from storage.models.delivery import (
    HeldPart,
    OutboxMessage,
    ReminderPause,
    SweepMark,
)
from storage.models.directives import (
    Directive,
    DirectiveConfirmation,
    DirectiveCount,
    DirectiveTarget,
)
from storage.models.people import (
    AuditEvent,
    Draft,
    Invitation,
    Member,
    RedeemAttempt,
    Unit,
    UnitGroup,
    UnitGroupMember,
)
from storage.models.tasks import (
    BlockerAlert,
    Initiative,
    Plan,
    Task,
    TaskAssignment,
    TaskCount,
    TaskReport,
)

__all__ = [
    "AuditEvent",
    "Base",
    "BlockerAlert",
    "CleanString",
    "CleanText",
    "Directive",
    "DirectiveConfirmation",
    "DirectiveCount",
    "DirectiveTarget",
    "Draft",
    "HeldPart",
    "Initiative",
    "Invitation",
    "Member",
    "MemberStatus",
    "NAMING",
    "NEVER",
    "OutboxMessage",
    "OutboxStatus",
    "Plan",
    "RedeemAttempt",
    "ReminderPause",
    "ReportKind",
    "Role",
    "SweepMark",
    "Task",
    "TaskAssignment",
    "TaskCount",
    "TaskReport",
    "TaskState",
    "UTCDateTime",
    "Unit",
    "UnitGroup",
    "UnitGroupMember",
    "Urgency",
]
