from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, OutboxStatus

RECENT = timedelta(hours=1)  # a routine row sent in the last minute came due in the last hour


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, message: OutboxMessage) -> None:
        self.session.add(message)

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 2000):
            await self.session.execute(insert(OutboxMessage), list(rows[start : start + 2000]))

    async def flush(self) -> None:
        await self.session.flush()

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
        """Mark up to ``limit`` due rows as in flight and return them, most urgent first.

        On PostgreSQL concurrent senders skip each other's rows (SKIP LOCKED); the lease lets a
        later sender take over rows whose sender died.
        """
        pick = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now)
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        ids = list(await self.session.scalars(pick))
        if not ids:
            return []
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
        return list(rows)

    async def renew_leases(self, ids: list[int], until: datetime) -> None:
        for start in range(0, len(ids), 900):
            await self.session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(ids[start : start + 900]),
                    OutboxMessage.status == OutboxStatus.SENDING,
                )
                .values(lease_until=until)
                .execution_options(synchronize_session=False)
            )

    async def release_expired_leases(self, now: datetime) -> int:
        """Return in-flight rows whose sender stopped (crash, kill -9) to the queue."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now)
            .values(status=OutboxStatus.PENDING, lease_until=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def apply(self, changes: Sequence[dict[str, Any]]) -> None:
        """Bulk UPDATE by primary key; each dict carries ``id`` and the columns to set."""
        if changes:
            await self.session.execute(update(OutboxMessage), list(changes))

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def by_ref(self, ref: str) -> list[OutboxMessage]:
        rows = await self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.ref == ref).order_by(OutboxMessage.id)
        )
        return list(rows)

    async def by_ref_prefix(self, prefix: str) -> list[OutboxMessage]:
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.ref.startswith(prefix, autoescape=True))
            .order_by(OutboxMessage.id)
        )
        return list(rows)

    async def withdraw(self, prefixes: Sequence[str], *, held_past: datetime | None = None) -> int:
        """Cancel the messages under these ref prefixes not sent yet (with ``held_past``: only
        those held until after it, for quiet hours): what they announce no longer stands.
        Returns how many."""
        if not prefixes:
            return 0
        held = [] if held_past is None else [OutboxMessage.not_before > held_past]
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                *held,
                or_(*(OutboxMessage.ref.startswith(p, autoescape=True) for p in prefixes)),
            )
            .values(status=OutboxStatus.CANCELLED, last_error="withdrawn")
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def last_routine(
        self, chat_ids: Sequence[int], now: datetime, gap: timedelta, below: int
    ) -> dict[int, datetime]:
        """When each chat's latest message (a send less urgent than ``below``) went out or
        will, for those that fall within ``gap`` of ``now``: a phone buzzes once a minute at
        most for news that can wait. Reads pending rows and rows sent since
        ``now - gap`` (bounded by the due index, since a row is sent after it is due)."""
        found: dict[int, datetime] = {}
        sends = OutboxMessage.method.startswith("send")
        for start in range(0, len(chat_ids), 900):  # by chat: indexed, a chat's rows are few
            chunk = list(chat_ids[start : start + 900])
            pending = (
                select(OutboxMessage.chat_id, func.max(OutboxMessage.not_before))
                .where(
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    OutboxMessage.priority > below,
                    OutboxMessage.not_before > now - gap,
                    OutboxMessage.not_before <= now + gap,
                    OutboxMessage.chat_id.in_(chunk),
                    sends,
                )
                .group_by(OutboxMessage.chat_id)
            )
            sent = (
                select(OutboxMessage.chat_id, func.max(OutboxMessage.sent_at))
                .where(
                    OutboxMessage.status == OutboxStatus.SENT,
                    OutboxMessage.priority > below,
                    OutboxMessage.not_before > now - RECENT,
                    OutboxMessage.sent_at > now - gap,
                    OutboxMessage.chat_id.in_(chunk),
                    sends,
                )
                .group_by(OutboxMessage.chat_id)
            )
            for query in (pending, sent):
                for chat_id, moment in await self.session.execute(query):
                    if moment is not None:
                        found[chat_id] = max(found.get(chat_id, moment), moment)
        return found

    async def get_many(self, ids: Sequence[int]) -> dict[int, OutboxMessage]:
        found: dict[int, OutboxMessage] = {}
        for start in range(0, len(ids), 900):
            rows = await self.session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_(ids[start : start + 900]))
            )
            found.update({row.id: row for row in rows})
        return found

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {row[0]: row[1] for row in rows}

    async def next_due_at(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(OutboxMessage.not_before)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        )

    async def failed_alike_before(
        self, chat_id: int, member_id: int, last_error: str, before_id: int
    ) -> bool:
        """Whether an earlier row to this member already failed for the same reason."""
        found = await self.session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.chat_id == chat_id,  # indexed: a member's rows are few
                OutboxMessage.member_id == member_id,
                OutboxMessage.status == OutboxStatus.FAILED,
                OutboxMessage.last_error == last_error,
                OutboxMessage.id < before_id,
            )
            .limit(1)
        )
        return found is not None
