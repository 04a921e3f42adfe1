"""One-tap confirmations, decided in batches: a broadcast brings thousands of taps a minute.

Each tap is checked on its own (member, role and unit, directive, version); the first tap of a
unit confirms for the whole unit, later ones are told who confirmed. One transaction serves a
whole batch, so the database sees a few statements per batch, not per tap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.authz import Action, authorize
from bot.services.directives import Confirmed, ConfirmResult, directive_text, unit_ref
from bot.services.members import MemberView, mark_reachable, view_of
from bot.services.notify import Notifier, Priority
from storage.models import Directive, DirectiveConfirmation, DirectiveTarget
from storage.repositories.directives import DirectiveRepository
from storage.repositories.members import MemberRepository


@dataclass(frozen=True)
class Tap:
    telegram_user_id: int
    directive_id: int
    version: int


@dataclass(frozen=True)
class TapResult:
    result: ConfirmResult | None  # None when the tap was refused
    refusal: str | None  # catalog key of the refusal
    language: str | None  # the member's language (None: not a member)
    unit_name: str | None


async def confirm_taps(
    session: AsyncSession, clock: Clock, taps: list[Tap], tz: ZoneInfo
) -> list[TapResult]:
    members_repo = MemberRepository(session)
    repo = DirectiveRepository(session)
    members = await members_repo.by_telegram_ids({tap.telegram_user_id for tap in taps})
    directives = await repo.get_many({tap.directive_id for tap in taps})
    pairs = {
        (tap.directive_id, members[tap.telegram_user_id].unit_id)
        for tap in taps
        if tap.telegram_user_id in members
    }
    targets = await repo.targets_for(pairs)
    confirmer_ids = {t.confirmed_by_id for t in targets.values() if t.confirmed_by_id}
    names = await members_repo.names_of(confirmer_ids)
    now = clock.now()
    notifier = Notifier(session, now)
    results: list[TapResult] = []
    for tap in taps:
        member = members.get(tap.telegram_user_id)
        if member is None:
            results.append(TapResult(None, "errors.not_registered", None, None))
            continue
        if member.unreachable_since is not None:  # a tap proves they can be reached
            mark_reachable(session, clock, member, member.chat_id)
        view = view_of(member)
        decision = authorize(view.actor, Action.CONFIRM_DIRECTIVE, view.unit_path)
        if not decision:
            results.append(TapResult(None, decision.reason, view.language, view.unit_name))
            continue
        result = await _one(
            repo,
            notifier,
            names,
            directives.get(tap.directive_id),
            targets.get((tap.directive_id, member.unit_id)),
            tap,
            view,
            now,
            tz,
        )
        results.append(TapResult(result, None, view.language, view.unit_name))
    return results


async def _one(
    repo: DirectiveRepository,
    notifier: Notifier,
    names: dict[int, str],
    directive: Directive | None,
    target: DirectiveTarget | None,
    tap: Tap,
    member: MemberView,
    now: datetime,
    tz: ZoneInfo,
) -> ConfirmResult:
    if directive is None:
        return ConfirmResult(Confirmed.NOT_FOUND)
    if target is None:
        return ConfirmResult(Confirmed.NOT_TARGET)
    if tap.version != directive.version:
        return ConfirmResult(Confirmed.STALE)
    if target.confirmed_at is not None:
        return ConfirmResult(
            Confirmed.ALREADY,
            names.get(target.confirmed_by_id or 0),
            target.confirmed_at,
            target.late,
        )
    late = now > directive.ack_by
    unit_id = target.unit_id
    if not await repo.confirm_target(target, member.id, tap.version, now, late):
        # another process confirmed this unit a moment ago
        return ConfirmResult(Confirmed.ALREADY, None, target.confirmed_at, target.late)
    names[member.id] = member.full_name
    repo.add_confirmation(
        DirectiveConfirmation(
            directive_id=directive.id,
            unit_id=unit_id,
            member_id=member.id,
            version=tap.version,
            at=now,
            late=late,
        )
    )
    ref = unit_ref(directive.id, tap.version, unit_id)
    copies = await notifier.outbox.by_ref(ref)
    languages = await MemberRepository(repo.session).languages_of(
        {c.member_id for c in copies if c.member_id}
    )
    confirmed: tuple[str, datetime] = (member.full_name, now)
    # The tapper already has their answer; tidying the unit's copies waits for broadcasts.
    await notifier.replace_copies(
        ref,
        lambda mid: directive_text(
            languages.get(mid or 0, member.language), directive, tz, confirmed=confirmed
        ),
        priority=Priority.LOW,
    )
    return ConfirmResult(Confirmed.CONFIRMED, member.full_name, now, late)
