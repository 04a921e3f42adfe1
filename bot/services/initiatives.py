"""Initiatives and good models (sáng kiến / mô hình hay): submitted by units, featured above."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import callbacks
from bot.core.clock import Clock
from bot.core.i18n import t
from bot.services.authz import Action, Actor, require
from bot.services.members import coordinators_over
from bot.services.notes import MAX_SENT, checked_note
from bot.services.notify import Button, Copy, Notifier, Priority
from bot.services.quiet import QuietHours
from bot.services.reports import ReportError
from storage.models import Initiative
from storage.repositories.members import MemberRepository
from storage.repositories.tasks import InitiativeRepository
from storage.repositories.units import UnitQueries, UnitRepository, parent_path

MAX_PHOTOS = 10


@dataclass(frozen=True)
class Submitted:
    initiative_id: int
    told: int


@dataclass(frozen=True)
class Featured:
    initiative_id: int
    members: int


@dataclass(frozen=True)
class InitiativeLine:
    id: int
    unit_name: str
    excerpt: str
    photos: int
    featured: bool
    at: datetime


def feature_button(lang: str, initiative_id: int) -> list[list[Button]]:
    data = callbacks.encode(callbacks.InitiativeFeature(initiative_id))
    return [[Button(t(lang, "initiative.feature_button"), data)]]


async def submit(
    session: AsyncSession, clock: Clock, actor: Actor, text: str, photos: Sequence[str]
) -> Submitted:
    """Save the initiative and show it to the coordinators above, who may feature it."""
    require(actor, Action.SUBMIT_INITIATIVE, actor.unit_path)
    body = checked_note(text, MAX_SENT)
    if not body:
        raise ReportError("initiative.empty")
    if len(photos) > MAX_PHOTOS:
        raise ReportError("report.too_many_files", max=MAX_PHOTOS)
    unit = await UnitRepository(session).get(actor.unit_id or 0)
    assert unit is not None  # noqa: S101 - a member's unit exists
    now = clock.now()
    initiative = await InitiativeRepository(session).add(
        Initiative(
            unit_id=unit.id,
            member_id=actor.member_id,
            text=body,
            photos=list(photos),
            created_at=now,
        )
    )
    coordinators = await coordinators_over(MemberRepository(session), parent_path(unit.path))
    notifier = Notifier(session, now)
    for member in coordinators:
        for photo in photos:
            notifier.file(member, "sendPhoto", photo)
        notifier.message(
            member,
            "initiative.submitted_notice",
            id=initiative.id,
            unit=unit.name,
            text=body,
            photos=len(photos),
            keyboard=feature_button(member.language, initiative.id),
        )
    return Submitted(initiative.id, len(coordinators))


async def feature(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    initiative_id: int,
    quiet: QuietHours | None = None,
) -> Featured:
    """Send a good model to every active member of the featuring coordinator's subtree (in
    quiet hours, in the morning)."""
    repo = InitiativeRepository(session)
    initiative = await repo.get(initiative_id)
    unit = await UnitRepository(session).get(initiative.unit_id) if initiative else None
    if initiative is None or unit is None:
        raise ReportError("initiative.not_found", id=initiative_id)
    require(actor, Action.FEATURE_INITIATIVE, unit.path)
    if initiative.featured_at is not None:
        raise ReportError("initiative.already_featured", id=initiative_id)
    now = clock.now()
    initiative.featured_at, initiative.featured_by_id = now, actor.member_id
    initiative.featured_scope_unit_id = actor.unit_id
    scope_units = [u.id for u in await UnitQueries(session).below(actor.unit_path)]
    members = await MemberRepository(session).active_in_units([*scope_units, actor.unit_id or 0])
    notifier = Notifier(session, now, hold_until=quiet.hold(now) if quiet else None)
    for member in members:
        for photo in initiative.photos:
            notifier.file(member, "sendPhoto", photo, priority=Priority.BULK)
    if initiative.photos:
        await notifier.outbox.flush()  # the photos go before the text that presents them
    texts = {
        lang: t(lang, "initiative.featured", unit=unit.name, text=initiative.text)
        for lang in {m.language for m in members}
    }
    await notifier.texts(
        [Copy(m, texts[m.language], None, f"initiative:{initiative.id}") for m in members],
        priority=Priority.BULK,
    )
    return Featured(initiative.id, len(members))


async def recent(session: AsyncSession, actor: Actor) -> list[InitiativeLine]:
    require(actor, Action.VIEW_TASKS, actor.unit_path)
    rows = await InitiativeRepository(session).recent_under(actor.unit_path)
    return [
        InitiativeLine(
            i.id, name, i.text[:120], len(i.photos), i.featured_at is not None, i.created_at
        )
        for i, name in rows
    ]
