"""The columns' types, the declarative base and the enums every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

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
