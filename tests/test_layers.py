"""Imports point one way: each layer imports only the layers below it (README, "layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package prefix -> the prefixes of ours it may import (besides itself)
ALLOWED: dict[str, tuple[str, ...]] = {
    "bot.core": (),
    "storage": ("bot.core",),
    "bot.delivery": ("storage", "bot.core"),
    "bot.services": ("storage", "bot.core"),
    "handlers": ("bot.services", "bot.core", "bot.context"),
    "bot.emulator": ("bot.core",),
}
OURS = ("bot", "handlers", "storage")
NO_TELEGRAM = ("bot.core", "bot.services", "storage")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # "from bot.core import callbacks" imports a module
                name = f"{node.module}.{alias.name}"
                found.add(name if _is_module(name) else node.module)
    return found


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _layer(module: str) -> str | None:
    matches = [p for p in ALLOWED if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


SOURCES = sorted(p for folder in OURS for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    module = _module_name(path)
    layer = _layer(module)
    if layer is None:  # the top of the house (app, runner, cli, demo) may import anything
        return
    allowed = (layer, *ALLOWED[layer])
    imported = {name for name in _imports(path) if name.split(".")[0] in OURS}
    wrong = sorted(n for n in imported if not any(_within(n, prefix) for prefix in allowed))
    assert not wrong, f"{module} ({layer}) imports {wrong}"
    if any(_within(module, prefix) for prefix in NO_TELEGRAM):
        assert not any(name.split(".")[0] == "telegram" for name in _imports(path)), module


def test_every_layer_has_modules() -> None:
    """The table above names real packages (a renamed folder must not pass silently)."""
    layers = {_layer(_module_name(path)) for path in SOURCES}
    assert set(ALLOWED) <= layers
