from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Invitation, RedeemAttempt


class InvitationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, invitation: Invitation) -> Invitation:
        self.session.add(invitation)
        await self.session.flush()
        return invitation

    async def add_many(self, invitations: Sequence[Invitation]) -> list[Invitation]:
        """Insert a batch in one flush; each row has its id afterwards."""
        self.session.add_all(invitations)
        await self.session.flush()
        return list(invitations)

    async def get_by_hash(self, code_hash: str) -> Invitation | None:
        return await self.session.scalar(
            select(Invitation).where(Invitation.code_hash == code_hash)
        )

    async def take_use(self, invitation_id: int) -> bool:
        """Consume one use atomically; False when none was left (another user took the last)."""
        result = await self.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.uses < Invitation.max_uses)
            .values(uses=Invitation.uses + 1)
            .execution_options(synchronize_session="fetch")
        )
        return bool(getattr(result, "rowcount", 0))

    async def failed_attempts_since(self, telegram_user_id: int, since: datetime) -> list[datetime]:
        rows = await self.session.scalars(
            select(RedeemAttempt.at)
            .where(RedeemAttempt.telegram_user_id == telegram_user_id, RedeemAttempt.at >= since)
            .order_by(RedeemAttempt.at)
        )
        return list(rows)

    async def record_failed_attempt(self, telegram_user_id: int, at: datetime) -> None:
        self.session.add(RedeemAttempt(telegram_user_id=telegram_user_id, at=at))
        await self.session.flush()

    async def count_failed_since(self, since: datetime) -> int:
        """Wrong codes from everyone since ``since`` (the global limit)."""
        return int(
            await self.session.scalar(
                select(func.count()).select_from(RedeemAttempt).where(RedeemAttempt.at >= since)
            )
            or 0
        )

    async def nth_failed_since(self, since: datetime, index: int) -> datetime | None:
        """The time of the ``index``-th (from 0, oldest first) wrong code since ``since``."""
        return await self.session.scalar(
            select(RedeemAttempt.at)
            .where(RedeemAttempt.at >= since)
            .order_by(RedeemAttempt.at, RedeemAttempt.id)
            .offset(index)
            .limit(1)
        )

    async def prune_failed_before(self, before: datetime) -> int:
        """Delete attempts too old to count for any limit; returns how many went."""
        result = await self.session.execute(
            delete(RedeemAttempt)
            .where(RedeemAttempt.at < before)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Invitation)) or 0)
