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


CallbackPayload = MemberDecision | LanguageChoice


def encode(payload: CallbackPayload) -> str:
    match payload:
        case MemberDecision(member_id, approve):
            data = f"md:{member_id}:{'y' if approve else 'n'}"
        case LanguageChoice(language):
            data = f"lang:{language}"
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
    return None
