"""Catalogs: both languages complete, placeholders agree, and every key the code uses exists."""

import re
from pathlib import Path

import pytest

from bot.core.i18n import catalog, languages, placeholders, t

ROOT = Path(__file__).parents[2]
KEY_USE = re.compile(r"""["']((?:[a-z_]+)\.[a-z_]+)["']""")
PREFIXES = {
    "commands",
    "deadline",
    "plan_update",
    "roles",
    "statuses",
    "levels",
    "authz",
    "start",
    "approval",
    "help",
    "me",
    "lang",
    "invite",
    "errors",
    "plan",
    "task",
    "tasks",
    "report",
    "view",
    "taskform",
    "initiative",
    "plan_import",
    "members",
    "units_import",
    "cli",
    "remind",
    "escalation",
    "digest",
    "pause",
}


def test_languages_are_vietnamese_and_english() -> None:
    assert languages() == ["en", "vi"]


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    vi, en = catalog("vi"), catalog("en")
    assert set(vi) == set(en)
    for key in vi:
        assert placeholders(vi[key]) == placeholders(en[key]), key


def test_every_literal_key_in_the_code_exists() -> None:
    known = set(catalog("vi"))
    used = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for key in KEY_USE.findall(path.read_text(encoding="utf-8")):
                if key.split(".")[0] in PREFIXES:
                    used.add(key)
    assert used, "the scan found no keys at all"
    assert sorted(used - known) == []


def test_fallback_to_vietnamese_for_unknown_language() -> None:
    assert t("fr", "errors.unknown_command") == t("vi", "errors.unknown_command")


def test_missing_key_is_an_error() -> None:
    with pytest.raises(KeyError):
        t("vi", "no.such_key")


def test_placeholders_are_filled() -> None:
    assert "ABC" in t("en", "invite.unknown_unit", code="ABC")
