"""Invitations and registration: create a link, redeem it, approve or reject the newcomer."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import callbacks
from bot.core.clock import Clock
from bot.core.config import OnboardingConfig
from bot.core.i18n import t
from bot.services.authz import INVITE_ACTION, Action, Actor, authorize, require
from bot.services.members import MemberView, coordinators_over, role_label, view_of
from bot.services.notify import Button, Notifier, Priority
from storage.models import Invitation, Member, MemberStatus, Role
from storage.repositories.audit import AuditRepository
from storage.repositories.counts import CountRepository
from storage.repositories.invitations import InvitationRepository
from storage.repositories.members import MemberRepository
from storage.repositories.units import UnitRepository

MAX_USES = 10_000


class UnknownUnit(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class InvalidInvitation(ValueError):
    """Bad parameters for a new invitation; ``key`` is a catalog entry."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class NewInvitation:
    id: int
    code: str
    unit_code: str
    unit_name: str
    role: Role
    max_uses: int
    expires_at: datetime
    auto_approve: bool


@dataclass(frozen=True)
class TelegramIdentity:
    user_id: int
    chat_id: int
    full_name: str
    username: str | None


class Redeemed(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    ALREADY_MEMBER = "already_member"
    INVALID = "invalid"
    EXPIRED = "expired"
    USED_UP = "used_up"
    TOO_MANY_TRIES = "too_many_tries"
    BUSY = "busy"  # too many wrong codes from everyone together: none is checked for now


@dataclass(frozen=True)
class RedeemResult:
    outcome: Redeemed
    member: MemberView | None = None
    retry_at: datetime | None = None
    approvers: int = 0


class Decided(StrEnum):
    DONE = "done"
    ALREADY_DECIDED = "already_decided"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class DecisionResult:
    outcome: Decided
    member: MemberView | None = None
    approved: bool = False


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def create_invitation(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    unit_code: str,
    role: Role,
    *,
    uses: int = 1,
    ttl: timedelta,
    auto_approve: bool = False,
) -> NewInvitation:
    check_terms(uses, ttl)
    unit = await UnitRepository(session).get_by_code(unit_code)
    if unit is None:
        raise UnknownUnit(unit_code)
    require(actor, INVITE_ACTION[role], unit.path)
    code = new_code()
    now = clock.now()
    invitation = await InvitationRepository(session).add(
        invitation_row(actor, unit.id, role, code, uses, now + ttl, auto_approve, now)
    )
    AuditRepository(session).record(
        now,
        actor.member_id,
        actor.label,
        "invitation.create",
        f"invitation:{invitation.id}",
        {"unit": unit.code, "role": str(role), "uses": uses, "auto_approve": auto_approve},
    )
    return NewInvitation(
        invitation.id, code, unit.code, unit.name, role, uses, invitation.expires_at, auto_approve
    )


def new_code() -> str:
    return secrets.token_urlsafe(12)  # 16 chars of A-Za-z0-9_-: fits a deep-link payload


def check_terms(uses: int, ttl: timedelta) -> None:
    """The terms every new invitation keeps, one at a time or in bulk."""
    if not 1 <= uses <= MAX_USES:
        raise InvalidInvitation("invite.bad_uses")
    if ttl <= timedelta(0):
        raise InvalidInvitation("invite.bad_ttl")


def invitation_row(
    actor: Actor,
    unit_id: int,
    role: Role,
    code: str,
    uses: int,
    expires_at: datetime,
    auto_approve: bool,
    now: datetime,
) -> Invitation:
    return Invitation(
        code_hash=hash_code(code),
        unit_id=unit_id,
        role=role,
        max_uses=uses,
        uses=0,
        auto_approve=auto_approve,
        expires_at=expires_at,
        created_by_id=actor.member_id,
        created_at=now,
    )


async def redeem_invitation(
    session: AsyncSession,
    clock: Clock,
    settings: OnboardingConfig,
    who: TelegramIdentity,
    code: str,
    default_language: str,
) -> RedeemResult:
    """Register ``who`` with the invitation behind ``code``; failed tries are limited."""
    now = clock.now()
    invitations = InvitationRepository(session)
    members = MemberRepository(session)
    since = now - settings.attempt_window
    recent = await invitations.failed_attempts_since(who.user_id, since)
    if len(recent) >= settings.max_attempts:
        return RedeemResult(
            Redeemed.TOO_MANY_TRIES,
            retry_at=recent[-settings.max_attempts] + settings.attempt_window,
        )
    # Besides each user's own limit, one for everyone: many accounts with one guess each must
    # not add up to an unbounded search (nor an unbounded table).
    overall = await invitations.count_failed_since(since)
    if overall >= settings.max_attempts_overall:
        oldest = await invitations.nth_failed_since(since, overall - settings.max_attempts_overall)
        return RedeemResult(Redeemed.BUSY, retry_at=(oldest or now) + settings.attempt_window)

    existing = await members.get_by_telegram_id(who.user_id)
    if existing is not None and existing.status not in (
        MemberStatus.PENDING,
        MemberStatus.REJECTED,
    ):
        return RedeemResult(Redeemed.ALREADY_MEMBER, view_of(existing))

    invitation = await invitations.get_by_hash(hash_code(code))
    failure = _why_unusable(invitation, now)
    if failure is None and invitation is not None and not await invitations.take_use(invitation.id):
        failure = Redeemed.USED_UP
    if failure is not None or invitation is None:
        await invitations.record_failed_attempt(who.user_id, now)
        await invitations.prune_failed_before(since)  # older ones count for no limit any more
        return RedeemResult(failure or Redeemed.INVALID)

    status = MemberStatus.ACTIVE if invitation.auto_approve else MemberStatus.PENDING
    member = existing or Member(
        telegram_user_id=who.user_id, language=default_language, created_at=now
    )
    member.chat_id = who.chat_id
    member.full_name = who.full_name[:200]
    member.username = who.username
    member.unit_id = invitation.unit_id
    member.role = invitation.role
    member.status = status
    member.invitation_id = invitation.id
    member.decided_by_id = None
    member.decided_at = now if invitation.auto_approve else None
    member.updated_at = now
    members.add(member)
    await members.flush()
    await session.refresh(member, ["unit"])
    if status == MemberStatus.ACTIVE:
        await CountRepository(session).joined(member.unit)
    AuditRepository(session).record(
        now,
        member.id,
        f"member:{member.id}",
        "member.register",
        f"member:{member.id}",
        {"invitation": invitation.id, "status": str(status)},
    )
    notifier = Notifier(session, now)
    approvers = 0
    if status == MemberStatus.PENDING:
        approvers = await _ask_approvers(notifier, members, member)
    notifier.command_menu(member)
    outcome = Redeemed.ACTIVE if status == MemberStatus.ACTIVE else Redeemed.PENDING
    return RedeemResult(outcome, view_of(member), approvers=approvers)


def _why_unusable(invitation: Invitation | None, now: datetime) -> Redeemed | None:
    if invitation is None or invitation.revoked_at is not None:
        return Redeemed.INVALID
    if invitation.expires_at <= now:
        return Redeemed.EXPIRED
    if invitation.uses >= invitation.max_uses:
        return Redeemed.USED_UP
    return None


def approval_ref(member_id: int) -> str:
    return f"approval:{member_id}"


async def _ask_approvers(notifier: Notifier, members: MemberRepository, member: Member) -> int:
    approvers = [c for c in await coordinators_over(members, member.unit.path) if c.id != member.id]
    for approver in approvers:
        lang = approver.language
        keyboard = [
            [
                Button(
                    t(lang, "approval.approve"),
                    callbacks.encode(callbacks.MemberDecision(member.id, True)),
                ),
                Button(
                    t(lang, "approval.reject"),
                    callbacks.encode(callbacks.MemberDecision(member.id, False)),
                ),
            ]
        ]
        notifier.message(
            approver,
            "approval.request",
            keyboard=keyboard,
            ref=approval_ref(member.id),
            priority=Priority.URGENT,
            name=member.full_name,
            username=f"@{member.username}" if member.username else "-",
            unit=member.unit.name,
            code=member.unit.code,
            role=role_label(lang, member.role),
        )
    return len(approvers)


async def decide_member(
    session: AsyncSession, clock: Clock, actor: Actor, member_id: int, approve: bool
) -> DecisionResult:
    """Approve or reject a pending registration; a second decision changes nothing."""
    members = MemberRepository(session)
    member = await members.get(member_id)
    if member is None:
        return DecisionResult(Decided.NOT_FOUND)
    require(actor, Action.DECIDE_MEMBER, member.unit.path)
    if member.status != MemberStatus.PENDING:
        return DecisionResult(
            Decided.ALREADY_DECIDED, view_of(member), approved=member.status == MemberStatus.ACTIVE
        )
    now = clock.now()
    member.status = MemberStatus.ACTIVE if approve else MemberStatus.REJECTED
    member.decided_by_id = actor.member_id
    member.decided_at = now
    member.updated_at = now
    if approve:
        await members.flush()
        await CountRepository(session).joined(member.unit)
    decider = await members.get(actor.member_id) if actor.member_id else None
    decider_name = decider.full_name if decider else actor.label
    AuditRepository(session).record(
        now,
        actor.member_id,
        actor.label,
        "member.approve" if approve else "member.reject",
        f"member:{member.id}",
    )
    notifier = Notifier(session, now)
    if approve:
        notifier.message(
            member,
            "approval.you_are_approved",
            priority=Priority.URGENT,
            unit=member.unit.name,
            role=role_label(member.language, member.role),
        )
    else:
        notifier.message(member, "approval.you_are_rejected", priority=Priority.URGENT)
    notifier.command_menu(member)

    copies = await notifier.outbox.by_ref(approval_ref(member.id))
    languages = await members.languages_of({c.member_id for c in copies if c.member_id})
    verdict = "approval.done_approved" if approve else "approval.done_rejected"
    await notifier.replace_copies(
        approval_ref(member.id),
        lambda copy_member_id: t(
            languages.get(copy_member_id or 0),
            verdict,
            name=member.full_name,
            unit=member.unit.name,
            by=decider_name,
        ),
    )
    return DecisionResult(Decided.DONE, view_of(member), approved=approve)


def can_decide(actor: Actor, unit_path: str) -> bool:
    return bool(authorize(actor, Action.DECIDE_MEMBER, unit_path))
