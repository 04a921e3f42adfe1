from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        at: datetime,
        actor_member_id: int | None,
        actor_label: str,
        action: str,
        subject: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AuditEvent(
                at=at,
                actor_member_id=actor_member_id,
                actor_label=actor_label,
                action=action,
                subject=subject,
                details=details or {},
            )
        )

    async def list_for_action(self, action: str) -> list[AuditEvent]:
        rows = await self.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(rows)
