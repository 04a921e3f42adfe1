"""Paused reminders: a coordinator stops the nagging of a unit with a known case, until a date.

A pause covers the unit and everything under it. While it lasts the sweeps skip them entirely
(reminders, overdue notices, re-reminders of directives, escalation). When it ends, each unit
gets the reminder then due, once, and the climb up the tree starts again from the parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.timefmt import parse_when
from bot.services.authz import Action, Actor, require
from bot.services.errors import ServiceError
from storage.models import ReminderPause, Unit
from storage.repositories.audit import AuditRepository
from storage.repositories.reminders import PauseRepository
from storage.repositories.units import UnitRepository

MAX_REASON = 500
MAX_LENGTH = timedelta(days=180)


class PauseError(ServiceError):
    """A pause that cannot be made or lifted."""


@dataclass(frozen=True)
class PauseView:
    unit_code: str
    unit_name: str
    until: datetime
    reason: str
    units: int = 1  # the unit and the units under it
    pending: int = 0  # open items (tasks not done, directives not confirmed) they have now


async def _unit(session: AsyncSession, actor: Actor, code: str) -> Unit:
    unit = await UnitRepository(session).get_by_code(code.strip())
    if unit is None:
        raise PauseError("pause.unknown_unit", code=code)
    require(actor, Action.PAUSE_REMINDERS, unit.path)
    return unit


async def pause(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    unit_code: str,
    until_text: str,
    reason: str,
    tz: ZoneInfo,
) -> PauseView:
    """Pause reminders for the unit until ``until_text`` (``30/11``, ``7d``…); replaces an
    earlier pause of the same unit."""
    unit = await _unit(session, actor, unit_code)
    now = clock.now()
    until = parse_when(until_text, now, tz)
    if until is None:
        raise PauseError("pause.bad_until", value=until_text)
    if until <= now or until - now > MAX_LENGTH:
        raise PauseError("pause.until_range", days=MAX_LENGTH.days)
    why = " ".join(reason.split())
    if not why:
        raise PauseError("pause.reason_needed")
    if len(why) > MAX_REASON:
        raise PauseError("pause.reason_too_long", max=MAX_REASON, length=len(why))
    repo = PauseRepository(session)
    for earlier in await repo.active_for_unit(unit.id, now):
        earlier.lifted_at = now
        earlier.lifted_by_id = actor.member_id
    repo.add(
        ReminderPause(
            unit_id=unit.id,
            reason=why,
            until=until,
            created_by_id=actor.member_id,
            created_at=now,
        )
    )
    AuditRepository(session).record(
        now,
        actor.member_id,
        actor.label,
        "reminders.pause",
        f"unit:{unit.code}",
        {"until": until.isoformat(), "reason": why},
    )
    units, pending = await repo.coverage(unit.path, now)
    return PauseView(unit.code, unit.name, until, why, units, pending)


async def resume(session: AsyncSession, clock: Clock, actor: Actor, unit_code: str) -> str:
    """Lift the unit's pause; returns the unit's name."""
    unit = await _unit(session, actor, unit_code)
    now = clock.now()
    active = await PauseRepository(session).active_for_unit(unit.id, now)
    if not active:
        raise PauseError("pause.not_paused", unit=unit.name)
    for item in active:
        item.lifted_at = now
        item.lifted_by_id = actor.member_id
    AuditRepository(session).record(
        now, actor.member_id, actor.label, "reminders.resume", f"unit:{unit.code}"
    )
    return unit.name


async def active_pauses(session: AsyncSession, clock: Clock, actor: Actor) -> list[PauseView]:
    """The pauses in force in the actor's part of the tree."""
    require(actor, Action.PAUSE_REMINDERS, actor.unit_path)
    rows = await PauseRepository(session).active_in_subtree(actor.unit_path, clock.now())
    return [PauseView(u.code, u.name, p.until, p.reason) for p, u in rows]
