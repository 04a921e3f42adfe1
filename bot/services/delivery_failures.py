"""Telegram refused a message for a recipient (400): their coordinators hear of it, once.

A 403 means the member blocked the bot (``members.mark_unreachable``). A 400 for a recipient
("chat not found", a deleted account, a chat the bot may not write to) means the same thing for
whoever waited for that message: it will not arrive. The recipient's coordinators are told once
per member and reason, however many messages of a broadcast or a reminder series fail alike.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.members import coordinators_over
from bot.services.notify import Notifier, Priority
from storage.repositories.audit import AuditRepository
from storage.repositories.members import MemberRepository
from storage.repositories.outbox import OutboxRepository


def failure_text(reason: str) -> str:
    """How a refused row's ``last_error`` reads; the same reason gives the same text."""
    return f"400 {reason}"[:1000]


async def report_rejected(
    session: AsyncSession, clock: Clock, member_id: int, reason: str, row_id: int
) -> bool:
    """Tell the coordinators over ``member_id`` that Telegram refused row ``row_id``.

    Called in the outbox sender's transaction after the row is marked failed. Returns whether
    anyone was told (False when an earlier row to the member already failed for this reason).
    """
    repo = MemberRepository(session)
    member = await repo.get(member_id)
    if member is None:
        return False
    outbox = OutboxRepository(session)
    if await outbox.failed_alike_before(member.chat_id, member.id, failure_text(reason), row_id):
        return False
    now = clock.now()
    AuditRepository(session).record(
        now,
        None,
        "outbox",
        "member.undeliverable",
        f"member:{member.id}",
        {"reason": reason[:200], "outbox": row_id},
    )
    notifier = Notifier(session, now)
    told = False
    for coordinator in await coordinators_over(repo, member.unit.path):
        if coordinator.id == member.id:
            continue
        notifier.message(
            coordinator,
            "delivery.rejected_notice",
            priority=Priority.URGENT,
            name=member.full_name,
            unit=member.unit.name,
        )
        told = True
    return told
