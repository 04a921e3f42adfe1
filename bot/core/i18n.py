"""Message catalogs: Vietnamese first, English second, chosen per member.

Catalogs are TOML files in ``bot/locales``; nested tables become dotted keys
(``[start] welcome = "..."`` is ``start.welcome``). Placeholders use ``{name}``.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).parent.parent / "locales"
DEFAULT_LANGUAGE = "vi"


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalog(language: str) -> dict[str, str]:
    path = LOCALES / f"{language}.toml"
    return _flatten(tomllib.loads(path.read_text(encoding="utf-8")))


def languages() -> list[str]:
    return sorted(_languages())


@cache
def _languages() -> frozenset[str]:
    """The catalogs on disk, read once: ``t`` runs for every message of a broadcast."""
    return frozenset(p.stem for p in LOCALES.glob("*.toml") if "." not in p.stem)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def t(language: str | None, key: str, /, **params: Any) -> str:
    """The message ``key`` in ``language`` (falling back to Vietnamese), filled with params."""
    lang = language if language in _languages() else DEFAULT_LANGUAGE
    text = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key)
    if text is None:
        raise KeyError(f"no message {key!r} in the catalogs")
    return text.format(**params) if params else text


def t_or(language: str | None, key: str, fallback: str) -> str:
    """A catalog entry that may legitimately be absent, e.g. the label of a custom unit level."""
    lang = language if language in _languages() else DEFAULT_LANGUAGE
    return catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or fallback
