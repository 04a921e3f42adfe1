"""Members: who is acting, their profile, language, reachability and listing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import LANGUAGES
from bot.core.i18n import t
from bot.core.parsing import MAX_ID, MAX_TELEGRAM_ID, is_int
from bot.services.authz import Action, Actor, require
from bot.services.notify import Notifier, Priority
from storage.models import Member, MemberStatus, Role
from storage.repositories.audit import AuditRepository
from storage.repositories.members import MemberRepository
from storage.repositories.units import ancestor_ids


@dataclass(frozen=True)
class MemberView:
    id: int
    telegram_user_id: int
    chat_id: int
    full_name: str
    username: str | None
    role: Role
    status: MemberStatus
    language: str
    unit_code: str
    unit_name: str
    unit_level: str
    unit_path: str
    created_at: datetime

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.role, self.status, self.unit_path, f"member:{self.id}")


def view_of(member: Member) -> MemberView:
    return MemberView(
        id=member.id,
        telegram_user_id=member.telegram_user_id,
        chat_id=member.chat_id,
        full_name=member.full_name,
        username=member.username,
        role=Role(member.role),
        status=MemberStatus(member.status),
        language=member.language,
        unit_code=member.unit.code,
        unit_name=member.unit.name,
        unit_level=member.unit.level,
        unit_path=member.unit.path,
        created_at=member.created_at,
    )


async def find_member(session: AsyncSession, telegram_user_id: int) -> MemberView | None:
    member = await MemberRepository(session).get_by_telegram_id(telegram_user_id)
    return view_of(member) if member else None


async def find_member_by_ref(session: AsyncSession, ref: str) -> MemberView | None:
    """A member named by id, ``@username`` or Telegram user id (for the command line)."""
    repo = MemberRepository(session)
    cleaned = ref.strip()
    if cleaned.startswith("@"):
        member = await repo.get_by_username(cleaned[1:])
    elif is_int(cleaned, low=1, high=MAX_TELEGRAM_ID):
        number = int(cleaned)
        member = (await repo.get(number) if number <= MAX_ID else None) or (
            await repo.get_by_telegram_id(number)
        )
    else:
        member = None
    return view_of(member) if member else None


async def note_seen(
    session: AsyncSession,
    clock: Clock,
    telegram_user_id: int,
    chat_id: int,
    *,
    private: bool = True,
) -> MemberView | None:
    """The member behind an update; one who wrote to us again in private is reachable again.

    Only reachability changes here, never the status: a rejected or removed member who
    writes stays what they are. A group is never taken as the member's chat.
    """
    member = await MemberRepository(session).get_by_telegram_id(telegram_user_id)
    if member is None:
        return None
    if private and member.unreachable_since is not None:
        mark_reachable(session, clock, member, chat_id)
    return view_of(member)


def mark_reachable(session: AsyncSession, clock: Clock, member: Member, chat_id: int) -> None:
    """They wrote or tapped in their private chat: Telegram delivers to them again."""
    member.unreachable_since = None
    member.chat_id = chat_id
    member.updated_at = clock.now()
    AuditRepository(session).record(
        clock.now(), member.id, f"member:{member.id}", "member.reachable", f"member:{member.id}"
    )


async def set_language(
    session: AsyncSession, clock: Clock, telegram_user_id: int, language: str
) -> MemberView | None:
    """Switch a registered member's language; returns None for someone not registered."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    member = await MemberRepository(session).get_by_telegram_id(telegram_user_id)
    if member is None:
        return None
    view = view_of(member)
    require(view.actor, Action.SET_LANGUAGE)
    member.language = language
    member.updated_at = clock.now()
    Notifier(session, clock.now()).command_menu(member)
    return view_of(member)


async def mark_unreachable(
    session: AsyncSession, clock: Clock, member_id: int, reason: str
) -> bool:
    """Record that Telegram refused delivery (403) and tell the member's coordinators once.

    Only the reachability fact is set; the status (who the member is) stays as it was. Only an
    active member's silence is worth a coordinator's attention: a bounced rejection notice
    is recorded, not announced.
    """
    repo = MemberRepository(session)
    member = await repo.get(member_id)
    if member is None or member.unreachable_since is not None:
        return False
    now = clock.now()
    member.unreachable_since = now
    member.updated_at = now
    AuditRepository(session).record(
        now, None, "outbox", "member.unreachable", f"member:{member.id}", {"reason": reason}
    )
    if member.status != MemberStatus.ACTIVE:
        return True
    notifier = Notifier(session, now)
    for coordinator in await coordinators_over(repo, member.unit.path):
        if coordinator.id == member.id:
            continue
        notifier.message(
            coordinator,
            "members.unreachable_notice",
            priority=Priority.URGENT,
            name=member.full_name,
            unit=member.unit.name,
        )
    return True


async def coordinators_over(repo: MemberRepository, unit_path: str) -> list[Member]:
    """Active coordinators of the unit or its nearest ancestor that has any; else admins."""
    for unit_id in reversed(ancestor_ids(unit_path)):
        found = await repo.active_with_roles_in_units([unit_id], [Role.COORDINATOR])
        if found:
            return found
    return await repo.active_admins()


async def list_members(
    session: AsyncSession, actor: Actor, unit_path: str | None = None
) -> list[MemberView]:
    scope = unit_path or actor.unit_path
    require(actor, Action.LIST_MEMBERS, scope)
    return [view_of(m) for m in await MemberRepository(session).list_in_subtree(scope)]


def role_label(language: str, role: Role | str) -> str:
    return t(language, f"roles.{role}")


def status_label(language: str, status: MemberStatus | str) -> str:
    return t(language, f"statuses.{status}")
