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


VERBS = {"view": "v", "remind": "r", "amend": "a"}
_VERB_OF = {code: verb for verb, code in VERBS.items()}
_CHOICE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")

CallbackPayload = (
    MemberDecision | LanguageChoice | DirectiveConfirm | DirectiveAction | ComposeChoice
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
    return None
