"""Which commands each member sees, in /help and in the Telegram menu."""

from __future__ import annotations

from storage.models import MemberStatus, Role

GUEST = ("start", "help", "lang")
BASE = ("help", "me", "lang")
BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.OFFICER: (*BASE, "tasks", "directives", "report", "initiative", "cancel"),
    Role.OBSERVER: (*BASE, "status", "directives", "tasks", "task", "initiatives"),
    Role.COORDINATOR: (
        *BASE,
        "status",
        "tasks",
        "task",
        "plan",
        "directive",
        "directives",
        "invite",
        "initiative",
        "initiatives",
        "pause",
        "resume",
        "cancel",
    ),
    Role.ADMIN: (
        *BASE,
        "status",
        "tasks",
        "task",
        "plan",
        "directive",
        "directives",
        "invite",
        "initiative",
        "initiatives",
        "pause",
        "resume",
        "cancel",
    ),
}


def commands_for(role: Role | None, status: MemberStatus | None) -> tuple[str, ...]:
    """Command names, without the slash; their descriptions are ``commands.<name>``."""
    if role is None or status is None:
        return GUEST
    if status != MemberStatus.ACTIVE:
        return BASE
    return BY_ROLE[role]
