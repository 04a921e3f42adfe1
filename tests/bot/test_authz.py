"""The whole authorisation matrix: every role × status × action × where the target lies."""

import itertools

import pytest

from bot.services.authz import Action, Actor, authorize
from storage.models import MemberStatus, Role

ACTOR_PATH = "/1/2/"
TARGETS = {
    "none": None,
    "own": "/1/2/",
    "below": "/1/2/7/",
    "above": "/1/",
    "sibling": "/1/3/",
    "prefix_lookalike": "/1/22/",  # shares the characters "/1/2" but is not in the subtree
}
EVERY = set(TARGETS)
SUBTREE = {"own", "below"}

A = Action
EXPECTED: dict[Role, dict[Action, set[str]]] = {
    Role.OFFICER: {
        A.VIEW_SELF: EVERY,
        A.SET_LANGUAGE: EVERY,
        A.VIEW_UNIT: {"own"},
        A.CONFIRM_DIRECTIVE: {"own"},
        A.VIEW_TASKS: {"own"},
        A.REPORT_TASK: {"own"},
        A.SUBMIT_INITIATIVE: {"own"},
    },
    Role.OBSERVER: {
        A.VIEW_SELF: EVERY,
        A.SET_LANGUAGE: EVERY,
        A.VIEW_UNIT: SUBTREE,
        A.LIST_MEMBERS: SUBTREE,
        A.VIEW_DIRECTIVES: SUBTREE,
        A.VIEW_TASKS: SUBTREE,
    },
    Role.COORDINATOR: {
        A.VIEW_SELF: EVERY,
        A.SET_LANGUAGE: EVERY,
        A.VIEW_UNIT: SUBTREE,
        A.LIST_MEMBERS: SUBTREE,
        A.INVITE_OFFICER: SUBTREE,
        A.INVITE_OBSERVER: SUBTREE,
        A.INVITE_COORDINATOR: SUBTREE,
        A.DECIDE_MEMBER: SUBTREE,
        A.SEND_DIRECTIVE: SUBTREE,
        A.AMEND_DIRECTIVE: SUBTREE,
        A.REMIND_DIRECTIVE: SUBTREE,
        A.MOVE_DEADLINE: SUBTREE,
        A.VIEW_DIRECTIVES: SUBTREE,
        A.CONFIRM_DIRECTIVE: {"own"},
        A.CREATE_PLAN: SUBTREE,
        A.ASSIGN_TASK: SUBTREE,
        A.VIEW_TASKS: SUBTREE,
        A.REPORT_TASK: {"own"},
        A.RETURN_REPORT: SUBTREE,
        A.CLOSE_TASK: SUBTREE,
        A.SUBMIT_INITIATIVE: {"own"},
        A.FEATURE_INITIATIVE: SUBTREE,
        A.PAUSE_REMINDERS: SUBTREE,
        A.HANDLE_BLOCKER: SUBTREE,
    },
    Role.ADMIN: {action: EVERY for action in Action},
}
INACTIVE_ALLOWED = {A.VIEW_SELF, A.SET_LANGUAGE}

CASES = list(itertools.product(Role, MemberStatus, Action, TARGETS))


@pytest.mark.parametrize(("role", "status", "action", "where"), CASES)
def test_matrix(role: Role, status: MemberStatus, action: Action, where: str) -> None:
    actor = Actor(1, role, status, ACTOR_PATH, "member:1")
    expected = where in EXPECTED[role].get(action, set())
    if status != MemberStatus.ACTIVE:
        expected = expected and action in INACTIVE_ALLOWED
    decision = authorize(actor, action, TARGETS[where])
    assert decision.allowed is expected
    assert (decision.reason == "") is expected


def test_refusals_explain_themselves() -> None:
    officer = Actor(1, Role.OFFICER, MemberStatus.ACTIVE, ACTOR_PATH, "m")
    assert authorize(officer, A.INVITE_OFFICER, "/1/2/").reason == "authz.role_denied"
    coordinator = Actor(1, Role.COORDINATOR, MemberStatus.ACTIVE, ACTOR_PATH, "m")
    assert authorize(coordinator, A.DECIDE_MEMBER, "/1/3/").reason == "authz.out_of_scope"
    pending = Actor(1, Role.COORDINATOR, MemberStatus.PENDING, ACTOR_PATH, "m")
    assert authorize(pending, A.DECIDE_MEMBER, "/1/2/").reason == "authz.not_active"


def test_the_command_line_acts_as_admin_everywhere() -> None:
    assert all(authorize(Actor.system(), action, "/9/").allowed for action in Action)


@pytest.mark.parametrize("status", [s for s in MemberStatus if s != MemberStatus.ACTIVE])
@pytest.mark.parametrize("role", list(Role))
async def test_a_bounce_and_a_new_message_never_change_what_a_member_may_do(
    session, clock, role: Role, status: MemberStatus
) -> None:
    """Statuses changing under a member: not active stays not active whatever delivery does."""
    from bot.services import members
    from tests.factories import make_member, make_tree

    await make_tree(session, clock)
    member = await make_member(session, clock, "HN", role, status)
    assert await members.mark_unreachable(session, clock, member.id, "blocked")
    seen = await members.note_seen(session, clock, member.telegram_user_id, member.chat_id)
    assert seen is not None
    assert seen.status == status
    allowed = {a for a in Action if authorize(seen.actor, a, seen.unit_path)}
    assert allowed == INACTIVE_ALLOWED
