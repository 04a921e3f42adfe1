"""A plan's own reminder settings over ``config.toml`` (``plans.settings["reminders"]``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import PLAN_REMINDER_OPTIONS, ConfigError, RemindersConfig, reminders_for_plan
from bot.services.authz import Action, Actor, require
from bot.services.plans import PlanError
from storage.repositories.tasks import PlanRepository
from storage.repositories.units import UnitRepository


@dataclass(frozen=True)
class PlanReminders:
    code: str
    effective: RemindersConfig
    own: dict[str, Any]  # what the plan sets itself; the rest comes from config.toml


async def plan_reminders(
    session: AsyncSession,
    actor: Actor,
    code: str,
    base: RemindersConfig,
    changes: Mapping[str, Any] | None = None,
    *,
    reset: bool = False,
) -> PlanReminders:
    """Show, change (``changes``) or drop (``reset``) the plan's own reminder settings."""
    plan = await PlanRepository(session).get_by_code(code)
    if plan is None:
        raise PlanError("plan.not_found", code=code)
    owner = await UnitRepository(session).get(plan.owner_unit_id)
    require(actor, Action.CREATE_PLAN, owner.path if owner else None)
    own: dict[str, Any] = {} if reset else dict((plan.settings or {}).get("reminders") or {})
    own.update({k: v for k, v in (changes or {}).items() if v is not None})
    unknown = sorted(set(own) - set(PLAN_REMINDER_OPTIONS))
    if unknown:
        raise PlanError("plan.bad_reminders", detail=", ".join(unknown))
    try:
        effective = reminders_for_plan(base, own)
    except ConfigError as error:
        raise PlanError("plan.bad_reminders", detail=str(error)) from None
    if changes or reset:
        plan.settings = {**(plan.settings or {}), "reminders": own}
    return PlanReminders(plan.code, effective, own)
