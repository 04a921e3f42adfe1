"""Callback-data codec: short opaque payloads (≤ 64 bytes) that the server checks again.

A payload is ``<kind>:<field>:<field>``. Decoding never trusts it: a malformed or unknown
payload decodes to None, and handlers re-check ids and authorisation before acting. Ids are
read by ``bot.core.parsing`` (ASCII digits, 1..MAX_ID), so a forged id beyond the database
column never reaches a query; decoding never raises, whatever string a client sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.parsing import MAX_ID, ParseError, parse_int

MAX_BYTES = 64
_CANONICAL_INT = re.compile(r"[1-9][0-9]{0,9}")  # what encode writes: no sign, no leading 0


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
    """A choice while composing: ``field`` is t(arget), d(eadline), u(rgency), (document)
    n(umber) or s(ubmit)."""

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
class BlockerAction:
    """A coordinator's button on one unit's blocker: take it on, or mark it resolved."""

    task_id: int
    unit_id: int
    verb: str  # "take" | "resolve"


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


@dataclass(frozen=True)
class RollupView:
    """A roll-up page: ``kind`` t(ask), d(irective), p(lan) or a(ll open work) — subject 0
    for a — at a unit (its child units, one line each), page from 0."""

    kind: str
    subject_id: int
    unit_id: int
    page: int = 0


ROLLUP_KINDS = frozenset("tdpa")
MAX_PAGE = 999


@dataclass(frozen=True)
class ListAll:
    """Open the member's whole list of work (what a bundled reminder shows only part of)."""


STATE_CODES = {"not_started": "n", "in_progress": "i", "done": "d", "blocked": "b"}
_STATE_OF = {code: state for state, code in STATE_CODES.items()}
TASK_VERBS = {"view": "tv", "close": "tc", "close_sure": "tz"}
_TASK_VERB_OF = {code: verb for verb, code in TASK_VERBS.items()}
UNIT_VERBS = {"return": "tr", "history": "tu"}
_UNIT_VERB_OF = {code: verb for verb, code in UNIT_VERBS.items()}
BLOCKER_VERBS = {"take": "bt", "resolve": "bx"}
_BLOCKER_VERB_OF = {code: verb for verb, code in BLOCKER_VERBS.items()}
VERBS = {"view": "v", "remind": "r", "amend": "a"}
_VERB_OF = {code: verb for verb, code in VERBS.items()}
_CHOICE = re.compile(r"[A-Za-z0-9_.\-]{1,40}")

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
    | BlockerAction
    | InitiativeFeature
    | TaskFormChoice
    | InitiativeSubmit
    | ListAll
    | RollupView
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
        case BlockerAction(task_id, unit_id, verb):
            data = f"{BLOCKER_VERBS[verb]}:{task_id}:{unit_id}"
        case InitiativeFeature(initiative_id):
            data = f"if:{initiative_id}"
        case TaskFormChoice(field_name, value):
            data = f"kp:{field_name}:{value}"
        case InitiativeSubmit(send):
            data = f"is:{'y' if send else 'n'}"
        case ListAll():
            data = "la"
        case RollupView(kind, subject_id, unit_id, page):
            data = f"ru:{kind}:{subject_id}:{unit_id}:{page}"
    if _size(data) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def _size(data: str) -> int:
    """Bytes on the wire; a lone surrogate (which no client can send) counts as too long."""
    try:
        return len(data.encode("utf-8"))
    except UnicodeEncodeError:
        return MAX_BYTES + 1


def _id(text: str) -> int | None:
    """A row id as this codec writes it, within the database column; None otherwise."""
    if not _CANONICAL_INT.fullmatch(text):
        return None
    try:
        return parse_int(text, low=1, high=MAX_ID)
    except ParseError:
        return None


def _progress(text: str) -> int | None:
    if text != "0" and not _CANONICAL_INT.fullmatch(text):
        return None
    try:
        return parse_int(text, low=0, high=100)
    except ParseError:
        return None


def _page(text: str) -> int | None:
    if text != "0" and not _CANONICAL_INT.fullmatch(text):
        return None
    try:
        return parse_int(text, low=0, high=MAX_PAGE)
    except ParseError:
        return None


def decode(data: str | None) -> CallbackPayload | None:
    """The payload ``data`` encodes, or None when it is not one this codec wrote."""
    if not isinstance(data, str) or not data or _size(data) > MAX_BYTES:
        return None
    match data.split(":"):
        case ["md", member_id, ("y" | "n") as verdict] if mid := _id(member_id):
            return MemberDecision(mid, verdict == "y")
        case ["lang", ("vi" | "en") as language]:
            return LanguageChoice(language)
        case ["dc", directive_id, version] if (did := _id(directive_id)) and (v := _id(version)):
            return DirectiveConfirm(did, v)
        case [("dv" | "dr" | "da") as verb, directive_id] if did := _id(directive_id):
            return DirectiveAction(did, _VERB_OF[verb[1]])
        case ["cp", ("t" | "d" | "u" | "n" | "s") as field_name, value] if _CHOICE.fullmatch(value):
            return ComposeChoice(field_name, value)
        case ["tk", task_id] if tid := _id(task_id):
            return TaskOpen(tid)
        case ["ts", task_id, ("n" | "i" | "d" | "b") as code] if tid := _id(task_id):
            return TaskStateChoice(tid, _STATE_OF[code])
        case ["tp", task_id, ("n" | "i" | "d" | "b") as code, progress] if (
            tid := _id(task_id)
        ) and (p := _progress(progress)) is not None:
            return TaskProgress(tid, _STATE_OF[code], p)
        case [("tv" | "tc" | "tz") as verb, task_id] if tid := _id(task_id):
            return TaskAction(tid, _TASK_VERB_OF[verb])
        case [("tr" | "tu") as verb, task_id, unit_id] if (tid := _id(task_id)) and (
            uid := _id(unit_id)
        ):
            return UnitAction(tid, uid, _UNIT_VERB_OF[verb])
        case [("bt" | "bx") as verb, task_id, unit_id] if (tid := _id(task_id)) and (
            uid := _id(unit_id)
        ):
            return BlockerAction(tid, uid, _BLOCKER_VERB_OF[verb])
        case ["if", initiative_id] if iid := _id(initiative_id):
            return InitiativeFeature(iid)
        case ["is", ("y" | "n") as verdict]:
            return InitiativeSubmit(verdict == "y")
        case ["la"]:
            return ListAll()
        case ["ru", kind, subject, unit_id, page] if (
            kind in ROLLUP_KINDS
            and ((sid := _id(subject)) or (kind == "a" and subject == "0"))
            and (uid := _id(unit_id))
            and (p := _page(page)) is not None
        ):
            return RollupView(kind, 0 if kind == "a" else sid or 0, uid, p)
        case ["kp", ("p" | "t" | "d" | "s") as field_name, value] if _CHOICE.fullmatch(value):
            return TaskFormChoice(field_name, value)
    return None
