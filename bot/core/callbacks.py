"""Callback-data codec: short opaque payloads (≤ 64 bytes) that the server checks again.

A payload is ``<kind>:<field>:<field>``. Decoding never trusts it: a malformed or unknown
payload decodes to None, and handlers re-check ids and authorisation before acting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_INT = re.compile(r"^[1-9][0-9]{0,17}$")


@dataclass(frozen=True)
class MemberDecision:
    member_id: int
    approve: bool


@dataclass(frozen=True)
class LanguageChoice:
    language: str


@dataclass(frozen=True)
class DirectiveConfirm:
    directive_id: int
    version: int


@dataclass(frozen=True)
class DirectiveAction:
    """A coordinator's button on a directive: view its status, remind, or amend."""

    directive_id: int
    verb: str  # "view" | "remind" | "amend"


@dataclass(frozen=True)
class ComposeChoice:
    """A choice while composing: ``field`` is t(arget), d(eadline), u(rgency) or s(ubmit)."""

    field: str
    value: str


@dataclass(frozen=True)
class TaskOpen:
    """Start a report on a task (the first of three taps)."""

    task_id: int


@dataclass(frozen=True)
class TaskStateChoice:
    task_id: int
    state: str  # a TaskState value


@dataclass(frozen=True)
class TaskProgress:
    task_id: int
    state: str
    progress: int


@dataclass(frozen=True)
class TaskAction:
    """A coordinator's button on a task: view it, ask to close, or close for sure."""

    task_id: int
    verb: str  # "view" | "close" | "close_sure"


@dataclass(frozen=True)
class UnitAction:
    """A coordinator's button on one unit's report: ask for more, or see its history."""

    task_id: int
    unit_id: int
    verb: str  # "return" | "history"


@dataclass(frozen=True)
class InitiativeFeature:
    initiative_id: int


@dataclass(frozen=True)
class InitiativeSubmit:
    """Send (or drop) the initiative being written."""

    send: bool


@dataclass(frozen=True)
class TaskFormChoice:
    """A choice while creating a task: p(lan), t(arget), d(eadline) or s(ubmit)."""

    field: str
    value: str


STATE_CODES = {"not_started": "n", "in_progress": "i", "done": "d", "blocked": "b"}
_STATE_OF = {code: state for state, code in STATE_CODES.items()}
TASK_VERBS = {"view": "tv", "close": "tc", "close_sure": "tz"}
_TASK_VERB_OF = {code: verb for verb, code in TASK_VERBS.items()}
UNIT_VERBS = {"return": "tr", "history": "tu"}
_UNIT_VERB_OF = {code: verb for verb, code in UNIT_VERBS.items()}
VERBS = {"view": "v", "remind": "r", "amend": "a"}
_VERB_OF = {code: verb for verb, code in VERBS.items()}
_CHOICE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")

CallbackPayload = (
    MemberDecision
    | LanguageChoice
    | DirectiveConfirm
    | DirectiveAction
    | ComposeChoice
    | TaskOpen
    | TaskStateChoice
    | TaskProgress
    | TaskAction
    | UnitAction
    | InitiativeFeature
    | TaskFormChoice
    | InitiativeSubmit
)


def encode(payload: CallbackPayload) -> str:
    match payload:
        case MemberDecision(member_id, approve):
            data = f"md:{member_id}:{'y' if approve else 'n'}"
        case LanguageChoice(language):
            data = f"lang:{language}"
        case DirectiveConfirm(directive_id, version):
            data = f"dc:{directive_id}:{version}"
        case DirectiveAction(directive_id, verb):
            data = f"d{VERBS[verb]}:{directive_id}"
        case ComposeChoice(field_name, value):
            data = f"cp:{field_name}:{value}"
        case TaskOpen(task_id):
            data = f"tk:{task_id}"
        case TaskStateChoice(task_id, state):
            data = f"ts:{task_id}:{STATE_CODES[state]}"
        case TaskProgress(task_id, state, progress):
            data = f"tp:{task_id}:{STATE_CODES[state]}:{progress}"
        case TaskAction(task_id, verb):
            data = f"{TASK_VERBS[verb]}:{task_id}"
        case UnitAction(task_id, unit_id, verb):
            data = f"{UNIT_VERBS[verb]}:{task_id}:{unit_id}"
        case InitiativeFeature(initiative_id):
            data = f"if:{initiative_id}"
        case TaskFormChoice(field_name, value):
            data = f"kp:{field_name}:{value}"
        case InitiativeSubmit(send):
            data = f"is:{'y' if send else 'n'}"
    if len(data.encode()) > MAX_BYTES:  # pragma: no cover - ids are far below this
        raise ValueError("callback data over 64 bytes")
    return data


def decode(data: str | None) -> CallbackPayload | None:
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    match parts:
        case ["md", member_id, ("y" | "n") as verdict] if _INT.match(member_id):
            return MemberDecision(int(member_id), verdict == "y")
        case ["lang", ("vi" | "en") as language]:
            return LanguageChoice(language)
        case ["dc", directive_id, version] if _INT.match(directive_id) and _INT.match(version):
            return DirectiveConfirm(int(directive_id), int(version))
        case [("dv" | "dr" | "da") as verb, directive_id] if _INT.match(directive_id):
            return DirectiveAction(int(directive_id), _VERB_OF[verb[1]])
        case ["cp", ("t" | "d" | "u" | "s") as field_name, value] if _CHOICE.match(value):
            return ComposeChoice(field_name, value)
        case ["tk", task_id] if _INT.match(task_id):
            return TaskOpen(int(task_id))
        case ["ts", task_id, ("n" | "i" | "d" | "b") as code] if _INT.match(task_id):
            return TaskStateChoice(int(task_id), _STATE_OF[code])
        case ["tp", task_id, ("n" | "i" | "d" | "b") as code, progress] if (
            _INT.match(task_id) and progress.isdigit() and int(progress) <= 100
        ):
            return TaskProgress(int(task_id), _STATE_OF[code], int(progress))
        case [("tv" | "tc" | "tz") as verb, task_id] if _INT.match(task_id):
            return TaskAction(int(task_id), _TASK_VERB_OF[verb])
        case [("tr" | "tu") as verb, task_id, unit_id] if _INT.match(task_id) and _INT.match(
            unit_id
        ):
            return UnitAction(int(task_id), int(unit_id), _UNIT_VERB_OF[verb])
        case ["if", initiative_id] if _INT.match(initiative_id):
            return InitiativeFeature(int(initiative_id))
        case ["is", ("y" | "n") as verdict]:
            return InitiativeSubmit(verdict == "y")
        case ["kp", ("p" | "t" | "d" | "s") as field_name, value] if _CHOICE.match(value):
            return TaskFormChoice(field_name, value)
    return None
