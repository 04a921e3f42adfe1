"""One directive's status as its issuer's scope sees it (the views by level are
bot/services/rollups.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.authz import Action, Actor
from bot.services.directives import own_directive
from storage.models import Directive
from storage.repositories.directives import DirectiveRepository, TargetState


@dataclass(frozen=True)
class Status:
    id: int
    text: str
    version: int
    ack_by: datetime
    urgent: bool
    targets: int
    confirmed: int
    late: int
    pending_by_parent: dict[str, list[str]]
    unreachable: list[str]


async def status(session: AsyncSession, actor: Actor, directive_id: int) -> Status:
    directive = await own_directive(session, actor, directive_id, Action.VIEW_DIRECTIVES)
    repo = DirectiveRepository(session)
    states = await repo.states(directive_id)
    return _status_of(
        directive,
        states,
        [f"{m.full_name} ({m.unit.name})" for m in await repo.unreachable(directive_id)],
    )


def _status_of(directive: Directive, states: list[TargetState], unreachable: list[str]) -> Status:
    pending: dict[str, list[str]] = {}
    for state in states:
        if state.confirmed_at is None:
            pending.setdefault(state.parent_name or "—", []).append(state.unit_name)
    return Status(
        id=directive.id,
        text=directive.text,
        version=directive.version,
        ack_by=directive.ack_by,
        urgent=directive.urgent,
        targets=len(states),
        confirmed=sum(1 for s in states if s.confirmed_at is not None),
        late=sum(1 for s in states if s.late),
        pending_by_parent=pending,
        unreachable=unreachable,
    )
