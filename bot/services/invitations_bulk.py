"""Invitations for a meeting: one per unit of a level under a unit, in one go (``fieldbot
invite bulk``), on the same terms and checks as one made at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.authz import INVITE_ACTION, Actor, require
from bot.services.onboarding import (
    InvalidInvitation,
    NewInvitation,
    UnknownUnit,
    check_terms,
    invitation_row,
    new_code,
)
from storage.models import Role
from storage.repositories.audit import AuditRepository
from storage.repositories.invitations import InvitationRepository
from storage.repositories.units import UnitQueries, UnitRepository

BULK_LIMIT = 5_000  # more invitations at once than any real meeting needs: asked to confirm
BULK_ROLES = (Role.OFFICER, Role.COORDINATOR, Role.OBSERVER)  # never an admin link per unit


class UnknownLevel(Exception):
    """No unit anywhere has this level; ``known`` are the levels there are."""

    def __init__(self, level: str, known: list[str]) -> None:
        super().__init__(level)
        self.level = level
        self.known = known


class NoUnitsAtLevel(Exception):
    """The level exists, but not under the unit; ``below`` are the levels that do."""

    def __init__(self, code: str, name: str, level: str, below: list[str]) -> None:
        super().__init__(code, level)
        self.code = code
        self.name = name
        self.level = level
        self.below = below


class TooManyUnits(Exception):
    """A batch larger than the caller's limit: made only when asked for explicitly."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(count)
        self.count = count
        self.limit = limit


@dataclass(frozen=True)
class UnitInvitation:
    """One invitation of a batch, with what a printed list says about its unit."""

    invitation: NewInvitation
    level: str
    parent_code: str | None
    parent_name: str | None


@dataclass(frozen=True)
class InvitationBatch:
    under_code: str
    under_name: str
    invitations: list[UnitInvitation]


async def create_invitations_under(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    under_code: str,
    level: str,
    role: Role,
    *,
    uses: int = 1,
    ttl: timedelta,
    auto_approve: bool = False,
    limit: int | None = BULK_LIMIT,
) -> InvitationBatch:
    """One invitation for each unit of ``level`` under ``under_code`` (itself included, first;
    the others by parent code, then code), on the same terms and checks as
    ``create_invitation``; all or none. ``limit`` (None: none) guards against a wrong code or
    level making thousands."""
    if role not in BULK_ROLES:
        raise InvalidInvitation("invite.bad_role")
    check_terms(uses, ttl)
    top = await UnitRepository(session).get_by_code(under_code)
    if top is None:
        raise UnknownUnit(under_code)
    require(actor, INVITE_ACTION[role], top.path)  # before saying anything about its subtree
    queries = UnitQueries(session)
    units = await queries.at_level_below(top.path, level)
    if top.level == level:
        units.insert(0, top)
    if not units:
        known = await queries.levels_below("/")
        if level not in known:
            raise UnknownLevel(level, known)
        raise NoUnitsAtLevel(top.code, top.name, level, await queries.levels_below(top.path))
    if limit is not None and len(units) > limit:
        raise TooManyUnits(len(units), limit)
    for unit in units:
        require(actor, INVITE_ACTION[role], unit.path)
    parents = {p.id: p for p in await queries.by_ids({u.parent_id for u in units if u.parent_id})}
    # As people look a unit up on a printed list: by its parent's code, then its own.
    units.sort(
        key=lambda u: (u is not top, parents[u.parent_id].code if u.parent_id else "", u.code)
    )
    now = clock.now()
    codes = [new_code() for _ in units]
    rows = await InvitationRepository(session).add_many(
        [
            invitation_row(actor, unit.id, role, code, uses, now + ttl, auto_approve, now)
            for unit, code in zip(units, codes, strict=True)
        ]
    )
    audit = AuditRepository(session)
    made = []
    for unit, code, row in zip(units, codes, rows, strict=True):
        audit.record(
            now,
            actor.member_id,
            actor.label,
            "invitation.create",
            f"invitation:{row.id}",
            {"unit": unit.code, "role": str(role), "uses": uses, "auto_approve": auto_approve}
            | {"batch_under": top.code},
        )
        parent = parents.get(unit.parent_id) if unit.parent_id else None
        made.append(
            UnitInvitation(
                NewInvitation(
                    row.id, code, unit.code, unit.name, role, uses, row.expires_at, auto_approve
                ),
                unit.level,
                parent.code if parent else None,
                parent.name if parent else None,
            )
        )
    return InvitationBatch(top.code, top.name, made)
