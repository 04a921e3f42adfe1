"""Parts of long texts waiting for the rest (see ``storage.models.HeldPart``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HeldPart


class HeldPartRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hold(
        self, chat_id: int, message_id: int, update: dict[str, Any], at: datetime
    ) -> None:
        """Keep one part; the same message delivered twice is kept once."""
        if await self.session.get(HeldPart, (chat_id, message_id)) is None:
            self.session.add(
                HeldPart(chat_id=chat_id, message_id=message_id, update=update, held_at=at)
            )
            await self.session.flush()

    async def take(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's parts in the order they were written, removed from the table."""
        rows = await self.session.scalars(
            select(HeldPart.update).where(HeldPart.chat_id == chat_id).order_by(HeldPart.message_id)
        )
        parts = list(rows)
        await self.session.execute(delete(HeldPart).where(HeldPart.chat_id == chat_id))
        return parts

    async def chats(self) -> list[int]:
        """Every chat with a part waiting (after a restart: the parts its window left behind)."""
        return list(await self.session.scalars(select(HeldPart.chat_id).distinct()))
