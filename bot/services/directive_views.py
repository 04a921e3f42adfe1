"""What coordinators and observers see of their directives: the list and one directive's status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.authz import Action, Actor, require
from bot.services.directives import own_directive
from storage.models import Directive
from storage.repositories.directives import DirectiveRepository, TargetState


@dataclass(frozen=True)
class DirectiveLine:
    id: int
    excerpt: str
    confirmed: int
    targets: int
    ack_by: datetime
    urgent: bool
    version: int


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


async def list_directives(
    session: AsyncSession, actor: Actor, limit: int = 10
) -> list[DirectiveLine]:
    require(actor, Action.VIEW_DIRECTIVES, actor.unit_path)
    rows = await DirectiveRepository(session).counts_in_scope(actor.unit_path, limit)
    return [
        DirectiveLine(
            r.directive.id,
            _excerpt(r.directive.text),
            r.confirmed,
            r.targets,
            r.directive.ack_by,
            r.directive.urgent,
            r.directive.version,
        )
        for r in rows
    ]


def _excerpt(text: str, size: int = 60) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= size else first[: size - 1] + "…"
