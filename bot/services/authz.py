"""The one authorisation check: every action is decided here from role and unit subtree."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.models import MemberStatus, Role


class Action(StrEnum):
    VIEW_SELF = "view_self"
    SET_LANGUAGE = "set_language"
    VIEW_UNIT = "view_unit"
    LIST_MEMBERS = "list_members"
    INVITE_OFFICER = "invite_officer"
    INVITE_OBSERVER = "invite_observer"
    INVITE_COORDINATOR = "invite_coordinator"
    INVITE_ADMIN = "invite_admin"
    DECIDE_MEMBER = "decide_member"
    IMPORT_UNITS = "import_units"
    SEND_DIRECTIVE = "send_directive"
    AMEND_DIRECTIVE = "amend_directive"
    REMIND_DIRECTIVE = "remind_directive"
    VIEW_DIRECTIVES = "view_directives"
    CONFIRM_DIRECTIVE = "confirm_directive"
    CREATE_PLAN = "create_plan"
    ASSIGN_TASK = "assign_task"
    VIEW_TASKS = "view_tasks"
    REPORT_TASK = "report_task"
    RETURN_REPORT = "return_report"
    CLOSE_TASK = "close_task"
    MOVE_DEADLINE = "move_deadline"
    SUBMIT_INITIATIVE = "submit_initiative"
    FEATURE_INITIATIVE = "feature_initiative"
    PAUSE_REMINDERS = "pause_reminders"
    HANDLE_BLOCKER = "handle_blocker"  # take a unit's blocker on, resolve it (units below)


class Scope(StrEnum):
    """How far from the actor's unit an action may reach."""

    SELF = "self"  # no unit involved: the member's own settings
    OWN_UNIT = "own_unit"
    SUBTREE = "subtree"  # the actor's unit and everything under it
    EVERYWHERE = "everywhere"


# Role -> action -> widest scope allowed. Absent means denied. Admins may do everything.
POLICY: dict[Role, dict[Action, Scope]] = {
    Role.OFFICER: {
        Action.VIEW_SELF: Scope.SELF,
        Action.SET_LANGUAGE: Scope.SELF,
        Action.VIEW_UNIT: Scope.OWN_UNIT,
        Action.CONFIRM_DIRECTIVE: Scope.OWN_UNIT,
        Action.VIEW_TASKS: Scope.OWN_UNIT,
        Action.REPORT_TASK: Scope.OWN_UNIT,
        Action.SUBMIT_INITIATIVE: Scope.OWN_UNIT,
    },
    Role.OBSERVER: {  # e.g. an inspection team (đoàn kiểm tra): sees its scope, changes nothing
        Action.VIEW_SELF: Scope.SELF,
        Action.SET_LANGUAGE: Scope.SELF,
        Action.VIEW_UNIT: Scope.SUBTREE,
        Action.LIST_MEMBERS: Scope.SUBTREE,
        Action.VIEW_DIRECTIVES: Scope.SUBTREE,
        Action.VIEW_TASKS: Scope.SUBTREE,
    },
    Role.COORDINATOR: {
        Action.VIEW_SELF: Scope.SELF,
        Action.SET_LANGUAGE: Scope.SELF,
        Action.VIEW_UNIT: Scope.SUBTREE,
        Action.LIST_MEMBERS: Scope.SUBTREE,
        Action.INVITE_OFFICER: Scope.SUBTREE,
        Action.INVITE_OBSERVER: Scope.SUBTREE,
        Action.INVITE_COORDINATOR: Scope.SUBTREE,
        Action.DECIDE_MEMBER: Scope.SUBTREE,
        Action.SEND_DIRECTIVE: Scope.SUBTREE,
        Action.AMEND_DIRECTIVE: Scope.SUBTREE,
        Action.REMIND_DIRECTIVE: Scope.SUBTREE,
        Action.VIEW_DIRECTIVES: Scope.SUBTREE,
        Action.CONFIRM_DIRECTIVE: Scope.OWN_UNIT,
        Action.CREATE_PLAN: Scope.SUBTREE,
        Action.ASSIGN_TASK: Scope.SUBTREE,
        Action.VIEW_TASKS: Scope.SUBTREE,
        Action.REPORT_TASK: Scope.OWN_UNIT,
        Action.RETURN_REPORT: Scope.SUBTREE,
        Action.CLOSE_TASK: Scope.SUBTREE,
        Action.MOVE_DEADLINE: Scope.SUBTREE,
        Action.SUBMIT_INITIATIVE: Scope.OWN_UNIT,
        Action.FEATURE_INITIATIVE: Scope.SUBTREE,
        Action.PAUSE_REMINDERS: Scope.SUBTREE,
        Action.HANDLE_BLOCKER: Scope.SUBTREE,
    },
    Role.ADMIN: {action: Scope.EVERYWHERE for action in Action},
}

# What a registered member who is not (yet) active may still do.
INACTIVE_ALLOWED = frozenset({Action.VIEW_SELF, Action.SET_LANGUAGE})

INVITE_ACTION = {
    Role.OFFICER: Action.INVITE_OFFICER,
    Role.OBSERVER: Action.INVITE_OBSERVER,
    Role.COORDINATOR: Action.INVITE_COORDINATOR,
    Role.ADMIN: Action.INVITE_ADMIN,
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a member, or the operator at the command line (``system``)."""

    member_id: int | None
    role: Role
    status: MemberStatus
    unit_path: str
    label: str

    @property
    def unit_id(self) -> int | None:
        """The actor's own unit: the last id on its path (None for the command line)."""
        ids = [int(part) for part in self.unit_path.strip("/").split("/") if part]
        return ids[-1] if ids else None

    @classmethod
    def system(cls) -> Actor:
        return cls(None, Role.ADMIN, MemberStatus.ACTIVE, "/", "cli")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # catalog key explaining a refusal; "" when allowed

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True, "")


def authorize(actor: Actor, action: Action, target_path: str | None = None) -> Decision:
    """Decide whether ``actor`` may do ``action`` on the unit whose path is ``target_path``."""
    if actor.status != MemberStatus.ACTIVE and action not in INACTIVE_ALLOWED:
        return Decision(False, "authz.not_active")
    scope = POLICY[actor.role].get(action)
    if scope is None:
        return Decision(False, "authz.role_denied")
    if scope in (Scope.SELF, Scope.EVERYWHERE):
        return ALLOWED
    if target_path is None:
        return Decision(False, "authz.out_of_scope")
    if scope is Scope.OWN_UNIT and target_path == actor.unit_path:
        return ALLOWED
    if scope is Scope.SUBTREE and target_path.startswith(actor.unit_path):
        return ALLOWED
    return Decision(False, "authz.out_of_scope")


class NotAllowed(Exception):
    """Raised by services when the authorisation check refuses an action."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.reason = decision.reason


def require(actor: Actor, action: Action, target_path: str | None = None) -> None:
    decision = authorize(actor, action, target_path)
    if not decision:
        raise NotAllowed(decision)
