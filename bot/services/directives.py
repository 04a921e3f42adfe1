"""Directives (chỉ đạo): send to part of the tree, confirm per unit in one tap, amend, remind.

Each carries a độ khẩn (``directive_text``: Thường, Khẩn, Thượng khẩn, Hỏa tốc) and maybe a
số hiệu. ``Directive.urgent`` is true exactly for Hỏa tốc: it is what goes through quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import callbacks
from bot.core.clock import Clock
from bot.core.i18n import t
from bot.services.authz import Action, Actor, authorize, require

# Named from here by handlers, the CLI and tests:
from bot.services.directive_text import MAX_TEXT as MAX_TEXT
from bot.services.directive_text import DirectiveError as DirectiveError
from bot.services.directive_text import Urgency as Urgency
from bot.services.directive_text import asked_level, checked_number, revised_text
from bot.services.directive_text import changes as changes
from bot.services.directive_text import checked_text as checked_text
from bot.services.directive_text import directive_text as directive_text
from bot.services.notify import Button, Copy, Notifier, Priority
from bot.services.quiet import QuietHours
from bot.services.rollups import nobody_in
from storage.models import Directive, Member, Unit
from storage.repositories.directives import DirectiveRepository, GroupRepository
from storage.repositories.members import MemberRepository
from storage.repositories.units import UnitQueries, UnitRepository


class TargetKind(StrEnum):
    SUBTREE = "subtree"
    LEVEL = "level"
    LIST = "list"
    GROUP = "group"


@dataclass(frozen=True)
class Target:
    """Who a directive goes to, always inside the sender's subtree."""

    kind: TargetKind
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> Target:
        """``subtree``, ``level:commune``, ``list:A,B,C`` or ``group:NAME`` (the CLI syntax)."""
        kind, _, value = text.strip().partition(":")
        try:
            target = cls(TargetKind(kind.lower()), value.strip())
        except ValueError:
            raise DirectiveError("directive.bad_target", target=text) from None
        if target.kind is not TargetKind.SUBTREE and not target.value:
            raise DirectiveError("directive.bad_target", target=text)
        return target


@dataclass(frozen=True)
class Preview:
    unit_count: int
    member_count: int
    unreachable_count: int
    sample_units: list[str]
    seconds: float
    nobody: list[str]  # units nobody can receive it in (nobody registered, or unreachable)


@dataclass(frozen=True)
class Sent:
    directive_id: int
    unit_count: int
    member_count: int
    held_until: datetime | None = None  # quiet hours: when the copies will go out


def _quiet_hold(quiet: QuietHours | None, urgent: bool, now: datetime) -> datetime | None:
    """When a directive written now goes out: urgent ones at once, others after quiet hours."""
    return quiet.hold(now) if quiet is not None and not urgent else None


class Confirmed(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY = "already"
    STALE = "stale"
    NOT_TARGET = "not_target"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class ConfirmResult:
    outcome: Confirmed
    by: str | None = None
    at: datetime | None = None
    late: bool = False


def unit_ref(directive_id: int, version: int, unit_id: int) -> str:
    """The outbox ref shared by the copies one unit received of one version."""
    return f"{unit_ref_prefix(directive_id, version)}{unit_id}"


def unit_ref_prefix(directive_id: int, version: int) -> str:
    """What every unit's ref for one version of a directive starts with."""
    return f"dir:{directive_id}:v{version}:u"


async def resolve(
    session: AsyncSession, actor: Actor, target: Target, action: Action = Action.SEND_DIRECTIVE
) -> list[Unit]:
    """The units a target names; every one must lie in the actor's subtree."""
    require(actor, action, actor.unit_path)
    queries = UnitQueries(session)
    match target.kind:
        case TargetKind.SUBTREE:
            units = await queries.below(actor.unit_path)
        case TargetKind.LEVEL:
            units = await queries.at_level_below(actor.unit_path, target.value)
        case TargetKind.LIST:
            codes = [c.strip() for c in target.value.replace(";", ",").split(",") if c.strip()]
            units = await queries.by_codes(codes)
            missing = sorted(set(codes) - {u.code for u in units})
            if missing:
                raise DirectiveError("directive.unknown_units", codes=", ".join(missing))
        case TargetKind.GROUP:
            group = await GroupRepository(session).get_by_name(target.value)
            if group is None:
                raise DirectiveError("directive.unknown_group", name=target.value)
            units = await queries.by_ids(await GroupRepository(session).unit_ids(group.id))
    outside = [u.code for u in units if not u.path.startswith(actor.unit_path)]
    if outside:
        raise DirectiveError("directive.outside_scope", codes=", ".join(sorted(outside)[:10]))
    if not units:
        raise DirectiveError("directive.no_units")
    return units


async def preview(
    session: AsyncSession, actor: Actor, target: Target, rate_per_second: float
) -> Preview:
    units = await resolve(session, actor, target)
    active, unreachable = await UnitQueries(session).count_active_members([u.id for u in units])
    nobody = await nobody_in(session, units)
    return Preview(
        len(units),
        active,
        unreachable,
        [u.name for u in units[:10]],
        active / rate_per_second,
        nobody,
    )


def _confirm_button(lang: str, directive: Directive) -> list[list[Button]]:
    data = callbacks.encode(callbacks.DirectiveConfirm(directive.id, directive.version))
    return [[Button(t(lang, "directive.confirm_button"), data)]]


async def send_copies(
    notifier: Notifier,
    directive: Directive,
    members: list[Member],
    tz: ZoneInfo,
    *,
    reminder: bool = False,
) -> int:
    """One outbox row per recipient (two with a document), written in bulk; returns how many
    rows. A reminder says so above the text."""
    priority = Priority.URGENT if directive.urgent else Priority.BULK
    languages = {m.language for m in members}
    held = notifier.hold_until if priority > Priority.URGENT else None
    now = max(notifier.now, held or notifier.now) if reminder else None
    texts = {
        lang: directive_text(lang, directive, tz, reminder=reminder, now=now) for lang in languages
    }
    buttons = {lang: _confirm_button(lang, directive) for lang in languages}
    copies = []
    for member in members:
        if directive.document_file_id:
            notifier.document(member, directive.document_file_id, priority=priority)
        copies.append(
            Copy(
                member,
                texts[member.language],
                buttons[member.language],
                unit_ref(directive.id, directive.version, member.unit_id),
            )
        )
    if directive.document_file_id:
        await notifier.outbox.flush()  # the document goes before the text that refers to it
    queued = await notifier.texts(copies, priority=priority)
    return queued * 2 if directive.document_file_id else queued


async def send_directive(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    *,
    text: str,
    target: Target,
    ack_by: datetime,
    urgent: bool = False,
    tz: ZoneInfo,
    document_file_id: str | None = None,
    quiet: QuietHours | None = None,
    urgency: str | None = None,
    document_number: str | None = None,
) -> Sent:
    """Create the directive, its per-unit duties, and one outbox row per recipient (held
    until morning in quiet hours unless Hỏa tốc).

    ``urgency``: a level (``khan``, ``Hỏa tốc`` …); without it ``urgent`` says Hỏa tốc or
    Thường, as before there were levels. ``document_number``: the số hiệu, if any.
    """
    level = asked_level(urgency, urgent)
    number = checked_number(document_number)
    body = checked_text(text)
    now = clock.now()
    if ack_by <= now:
        raise DirectiveError("directive.deadline_past")
    units = await resolve(session, actor, target)
    scope = await UnitRepository(session).get(actor.unit_id or 0)
    author = await MemberRepository(session).get(actor.member_id) if actor.member_id else None
    label = f"{author.full_name}, {author.unit.name}" if author else actor.label
    repo = DirectiveRepository(session)
    directive = await repo.add(
        Directive(
            author_member_id=actor.member_id,
            author_label=label[:200],
            scope_unit_id=scope.id if scope else units[0].id,
            text=body,
            document_file_id=document_file_id,
            ack_by=ack_by,
            urgent=level is Urgency.FLASH,
            urgency=level,
            document_number=number,
            version=1,
            created_at=now,
        )
    )
    await repo.add_targets(directive.id, [u.id for u in units])
    members = await repo.recipients(directive.id)
    held = _quiet_hold(quiet, directive.urgent, now)
    await send_copies(Notifier(session, now, hold_until=held), directive, members, tz)
    return Sent(directive.id, len(units), len(members), held)


async def amend(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    directive_id: int,
    new_text: str,
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
) -> Sent:
    """A new version: every unit must confirm again and sees what changed.

    It reaches only the target units still within the amending actor's scope, decided unit by
    unit by the one authorisation check: a unit moved elsewhere in the tree since the directive
    went out (``fieldbot units import``) no longer hears from its old coordinator.
    """
    repo = DirectiveRepository(session)
    directive = await own_directive(session, actor, directive_id, Action.AMEND_DIRECTIVE)
    body = checked_text(new_text)
    if body == directive.text:
        raise DirectiveError("urgency.amend_same")
    now = clock.now()
    held = _quiet_hold(quiet, directive.urgent, now)
    notifier = Notifier(session, now, hold_until=held)
    old_version = directive.version
    states = await repo.states(directive_id)
    in_scope = await _in_scope(session, actor, Action.AMEND_DIRECTIVE, [s.unit_id for s in states])
    if not in_scope:
        raise DirectiveError("directive.no_units")
    members = await repo.recipients(directive_id, in_scope)
    languages = {m.id: m.language for m in members}

    def superseded(mid: int | None) -> str:
        return directive_text(languages.get(mid or 0, "vi"), directive, tz, superseded=True)

    # The old copies are tidied after the new version goes out: every unit's at once (one
    # query) when all are still in scope, else only those of the units the amendment reaches.
    if len(in_scope) == len(states):
        await notifier.replace_copies(
            unit_ref_prefix(directive_id, old_version), superseded, Priority.LOW, prefix=True
        )
    else:
        for unit_id in in_scope:
            await notifier.replace_copies(
                unit_ref(directive_id, old_version, unit_id), superseded, Priority.LOW
            )
    directive.previous_text = directive.text
    directive.text = body
    directive.version = old_version + 1
    directive.amended_at = now
    await repo.reset_confirmations(directive_id, in_scope)
    await send_copies(notifier, directive, members, tz)
    return Sent(directive.id, len(in_scope), len(members), held)


async def amend_typed(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    directive_id: int,
    typed: str,
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
) -> Sent:
    """An amendment as a coordinator types it: the whole new text, or lines ``cũ => mới``
    that replace passages of the current one (``directive_text.revised_text``)."""
    directive = await own_directive(session, actor, directive_id, Action.AMEND_DIRECTIVE)
    revised = revised_text(directive.text, typed)
    text = typed if revised is None else revised
    return await amend(session, clock, actor, directive_id, text, tz, quiet)


async def current_text(session: AsyncSession, actor: Actor, directive_id: int) -> str:
    """The text a coordinator about to amend a directive starts from."""
    return (await own_directive(session, actor, directive_id, Action.AMEND_DIRECTIVE)).text


async def _in_scope(
    session: AsyncSession, actor: Actor, action: Action, unit_ids: list[int]
) -> list[int]:
    """The units among ``unit_ids`` the actor may still reach with ``action`` (units move)."""
    units = await UnitQueries(session).by_ids(unit_ids)
    return [u.id for u in units if authorize(actor, action, u.path)]


async def own_directive(
    session: AsyncSession, actor: Actor, directive_id: int, action: Action
) -> Directive:
    directive = await DirectiveRepository(session).get(directive_id)
    if directive is None:
        raise DirectiveError("directive.not_found", id=directive_id)
    scope = await UnitRepository(session).get(directive.scope_unit_id)
    require(actor, action, scope.path if scope else None)
    return directive


async def remind_pending(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    directive_id: int,
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
) -> int:
    """Send the directive again to members of units that have not confirmed: now, or (a
    directive that is not urgent, in quiet hours) in the morning."""
    directive = await own_directive(session, actor, directive_id, Action.REMIND_DIRECTIVE)
    repo = DirectiveRepository(session)
    pending = [s.unit_id for s in await repo.states(directive_id) if s.confirmed_at is None]
    # Like an amendment, a reminder reaches only the units still within the actor's scope.
    pending = await _in_scope(session, actor, Action.REMIND_DIRECTIVE, pending)
    members = await repo.recipients(directive_id, pending) if pending else []
    now = clock.now()
    held = _quiet_hold(quiet, directive.urgent, now)
    await send_copies(Notifier(session, now, hold_until=held), directive, members, tz)
    return len(members)


async def target_options(
    session: AsyncSession, actor: Actor, action: Action = Action.SEND_DIRECTIVE
) -> tuple[list[str], list[str]]:
    """The levels below the actor and the saved groups, offered as targets."""
    require(actor, action, actor.unit_path)
    levels = await UnitQueries(session).levels_below(actor.unit_path)
    groups = [g.name for g in await GroupRepository(session).all()]
    return levels, groups


async def save_group(
    session: AsyncSession, clock: Clock, actor: Actor, name: str, codes: list[str]
) -> int:
    """Create or replace a named group of units (e.g. "5 địa phương tổ chức điểm")."""
    require(actor, Action.IMPORT_UNITS)
    units = await UnitQueries(session).by_codes(codes)
    missing = sorted(set(codes) - {u.code for u in units})
    if missing:
        raise DirectiveError("directive.unknown_units", codes=", ".join(missing))
    if not name.strip() or len(name) > 100:
        raise DirectiveError("directive.bad_group_name")
    await GroupRepository(session).replace(name.strip(), [u.id for u in units], clock.now())
    return len(units)
