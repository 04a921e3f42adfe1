"""Multi-step forms in chat, kept in the database so a restart loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.parsing import clean_text
from storage.models import Draft
from storage.repositories.directives import DraftRepository


@dataclass(frozen=True)
class DraftView:
    kind: str
    step: int
    data: dict[str, Any]


async def current(session: AsyncSession, member_id: int) -> DraftView | None:
    draft = await DraftRepository(session).get(member_id)
    if draft is None:
        return None
    return DraftView(draft.kind, int(draft.step), dict(draft.data))


async def save(
    session: AsyncSession,
    clock: Clock,
    member_id: int,
    kind: str,
    step: int,
    data: dict[str, Any],
) -> DraftView:
    """Start or continue a form (a member has at most one open at a time)."""
    data = _kept(data)
    await DraftRepository(session).put(
        Draft(member_id=member_id, kind=kind, step=str(step), data=data, updated_at=clock.now())
    )
    return DraftView(kind, step, data)


def _kept(value: Any) -> Any:
    """``value`` as a JSON column can keep it: PostgreSQL refuses ``\u0000`` in jsonb, and a
    lone surrogate cannot be encoded at all, whichever step of a form typed it."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _kept(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_kept(v) for v in value]
    return value


async def discard(session: AsyncSession, member_id: int) -> bool:
    existed = await DraftRepository(session).get(member_id) is not None
    await DraftRepository(session).drop(member_id)
    return existed
