"""The urgency step of the directive form: four levels as buttons, two by two, and the
levels a form holds (also one saved, or a keyboard sent, before there were levels)."""

from __future__ import annotations

from typing import Any

from bot.core import callbacks
from bot.core.i18n import t
from bot.services.directive_text import LEVELS
from bot.services.directives import Urgency
from bot.services.notify import Button

LEGACY_URGENCY = {"0": Urgency.NORMAL, "1": Urgency.FLASH}  # buttons sent before the levels


def _choice(field: str, value: str) -> str:
    return callbacks.encode(callbacks.ComposeChoice(field, value))


def urgency_buttons(lang: str, numbered: bool = False) -> list[list[Button]]:
    """The four levels, two by two (Thường first, the default); "Bỏ số hiệu" under them once
    a số hiệu was typed."""
    levels = [Button(t(lang, f"urgency.button_{u.value}"), _choice("u", u.value)) for u in LEVELS]
    rows = [levels[:2], levels[2:]]
    if numbered:
        rows.append([Button(t(lang, "urgency.drop_number_button"), _choice("n", "skip"))])
    return rows


def chosen_urgency(value: str) -> Urgency | None:
    """The level a ``cp:u:`` button names (``hoa_toc``; ``0``/``1`` from before the levels)."""
    if value in LEGACY_URGENCY:
        return LEGACY_URGENCY[value]
    return next((u for u in LEVELS if u.value == value), None)


def draft_urgency(data: dict[str, Any]) -> Urgency:
    """The level a form holds; a form saved before the levels held ``urgent``."""
    level = chosen_urgency(str(data.get("urgency", "")))
    if level is not None:
        return level
    return Urgency.FLASH if data.get("urgent") else Urgency.NORMAL
