"""The organisation tree: validated CSV import (all or nothing) and listing."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.authz import Action, Actor, require
from storage.repositories.audit import AuditRepository
from storage.repositories.counts import CountRepository
from storage.repositories.units import UnitRepository

COLUMNS = ("code", "name", "level", "parent_code")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
MAX_NAME = 200
MAX_LEVEL = 50
MAX_PATH = 1024


@dataclass(frozen=True)
class RowError:
    """One problem in an import file; ``key`` is a catalog entry, ``params`` fill it."""

    line: int
    key: str
    params: dict[str, Any] = field(default_factory=dict)


class UnitImportError(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the unit file")
        self.errors = sorted(errors, key=lambda e: e.line)


@dataclass(frozen=True)
class UnitRow:
    line: int
    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class UnitView:
    id: int
    code: str
    name: str
    level: str
    depth: int
    parent_code: str | None
    path: str


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnitImportError([RowError(line, "units_import.not_utf8")]) from None


def parse_units_csv(data: bytes) -> list[UnitRow]:
    """Read and check every row; raise UnitImportError listing every problem found."""
    text = _decode(data)
    if "\x00" in text:  # csv takes NUL for a character; the database refuses it
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise UnitImportError([RowError(line, "input.file_nul")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UnitImportError([RowError(1, "units_import.empty")]) from None
    except csv.Error as exc:
        raise UnitImportError([RowError(1, "units_import.bad_csv", {"detail": str(exc)})]) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise UnitImportError(
            [RowError(1, "units_import.missing_columns", {"columns": ", ".join(missing)})]
        )
    index = {c: names.index(c) for c in COLUMNS}
    rows: list[UnitRow] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) < len(header):
                errors.append(RowError(line, "units_import.too_few_columns"))
                continue
            code, name, level, parent = (record[index[c]].strip() for c in COLUMNS)
            row_errors = _check_row(line, code, name, level, parent)
            if code in first_line:
                row_errors.append(
                    RowError(
                        line,
                        "units_import.duplicate_code",
                        {"code": code, "first": first_line[code]},
                    )
                )
            errors.extend(row_errors)
            if not row_errors:
                first_line[code] = line
                rows.append(UnitRow(line, code, name, level, parent or None))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "units_import.bad_csv", {"detail": str(exc)}))
    if not rows and not errors:
        errors.append(RowError(1, "units_import.empty"))
    if errors:
        raise UnitImportError(errors)
    return rows


def _check_row(line: int, code: str, name: str, level: str, parent: str) -> list[RowError]:
    errors = []
    if not CODE_PATTERN.match(code):
        errors.append(RowError(line, "units_import.bad_code", {"code": code}))
    if not name:
        errors.append(RowError(line, "units_import.empty_name"))
    elif len(name) > MAX_NAME:
        errors.append(RowError(line, "units_import.long_name", {"max": MAX_NAME}))
    if not level:
        errors.append(RowError(line, "units_import.empty_level"))
    elif len(level) > MAX_LEVEL:
        errors.append(RowError(line, "units_import.long_level", {"max": MAX_LEVEL}))
    if parent and not CODE_PATTERN.match(parent):
        errors.append(RowError(line, "units_import.bad_code", {"code": parent}))
    return errors


def _find_cycles(parent_of: dict[str, str | None], lines: dict[str, int]) -> list[RowError]:
    """Each cycle in the would-be tree, reported once at its first line in the file."""
    state: dict[str, int] = {}  # 1 = on the current walk, 2 = known to reach a root
    errors = []
    for start in parent_of:
        walk: list[str] = []
        node: str | None = start
        while node is not None and state.get(node) is None:
            state[node] = 1
            walk.append(node)
            node = parent_of.get(node)
        if node is not None and state.get(node) == 1:
            cycle = walk[walk.index(node) :]
            in_file = [c for c in cycle if c in lines]
            line = min(lines[c] for c in in_file) if in_file else 1
            errors.append(
                RowError(line, "units_import.cycle", {"codes": " → ".join(cycle + [node])})
            )
        for visited in walk:
            state[visited] = 2
    return errors


async def import_units(
    session: AsyncSession, clock: Clock, actor: Actor, data: bytes
) -> ImportSummary:
    """Create or update units from CSV bytes; write nothing unless every row is valid."""
    require(actor, Action.IMPORT_UNITS)
    rows = parse_units_csv(data)
    units = UnitRepository(session)
    existing = {link.code: link for link in await units.links()}
    code_of_id = {link.id: link.code for link in existing.values()}
    parent_of: dict[str, str | None] = {
        code: code_of_id.get(link.parent_id) if link.parent_id else None
        for code, link in existing.items()
    }
    by_code = {row.code: row for row in rows}
    lines = {row.code: row.line for row in rows}
    errors = [
        RowError(row.line, "units_import.unknown_parent", {"parent": row.parent_code})
        for row in rows
        if row.parent_code and row.parent_code not in lines and row.parent_code not in existing
    ]
    if errors:
        raise UnitImportError(errors)
    parent_of.update({row.code: row.parent_code for row in rows})
    cycle_errors = _find_cycles(parent_of, lines)
    if cycle_errors:
        raise UnitImportError(cycle_errors)

    now = clock.now()
    new_rows = [row for row in rows if row.code not in existing]
    await units.insert_many(
        [
            {
                "code": r.code,
                "name": r.name,
                "level": r.level,
                "parent_id": None,
                "path": "/",
                "depth": 0,
                "created_at": now,
                "updated_at": now,
            }
            for r in new_rows
        ]
    )
    ids = {code: link.id for code, link in existing.items()}
    ids.update(await units.ids_by_code([r.code for r in new_rows]))
    before = {row.code: row for row in await _current_details(units, rows, existing)}
    paths = _paths(parent_of, ids)
    too_deep = [r for r in rows if len(paths[r.code]) > MAX_PATH]
    if too_deep:
        raise UnitImportError([RowError(r.line, "units_import.too_deep") for r in too_deep])

    changes: list[dict[str, Any]] = []
    updated = 0
    for code, unit_id in ids.items():
        parent = parent_of.get(code)
        change: dict[str, Any] = {
            "id": unit_id,
            "parent_id": ids[parent] if parent else None,
            "path": paths[code],
            "depth": paths[code].count("/") - 2,
        }
        row = by_code.get(code)
        if row is not None:
            change.update(name=row.name, level=row.level)
            old = before.get(code)
            if old is not None and (old.name, old.level, old.parent_code) != (
                row.name,
                row.level,
                row.parent_code,
            ):
                change["updated_at"] = now
                updated += 1
        changes.append(change)
    await units.update_many(changes)
    new_parent = {c["id"]: c["parent_id"] for c in changes}
    moved = any(new_parent[link.id] != link.parent_id for link in existing.values())
    if moved:  # a unit's duties now count under other ancestors: counted afresh
        await session.flush()
        await CountRepository(session).rebuild()
    summary = ImportSummary(
        created=len(new_rows), updated=updated, unchanged=len(rows) - len(new_rows) - updated
    )
    AuditRepository(session).record(
        now,
        actor.member_id,
        actor.label,
        "units.import",
        f"{len(rows)} rows",
        {"created": summary.created, "updated": summary.updated},
    )
    return summary


async def _current_details(
    units: UnitRepository, rows: list[UnitRow], existing: dict[str, Any]
) -> list[UnitRow]:
    wanted = [existing[r.code].id for r in rows if r.code in existing]
    found = []
    code_of_id = {link.id: code for code, link in existing.items()}
    for start in range(0, len(wanted), 900):
        for unit in await units.get_many(wanted[start : start + 900]):
            parent = code_of_id.get(unit.parent_id) if unit.parent_id else None
            found.append(UnitRow(0, unit.code, unit.name, unit.level, parent))
    return found


def _paths(parent_of: dict[str, str | None], ids: dict[str, int]) -> dict[str, str]:
    paths: dict[str, str] = {}

    def path_of(code: str) -> str:
        trail = []
        node: str | None = code
        while node is not None and node not in paths:
            trail.append(node)
            node = parent_of.get(node)
        prefix = paths[node] if node is not None else "/"
        for step in reversed(trail):
            prefix = f"{prefix}{ids[step]}/"
            paths[step] = prefix
        return paths[code]

    for code in ids:
        path_of(code)
    return paths


async def unit_path(session: AsyncSession, code: str) -> str | None:
    """The materialised path of the unit with ``code``, or None if there is none."""
    unit = await UnitRepository(session).get_by_code(code)
    return unit.path if unit else None


async def list_units(session: AsyncSession) -> list[UnitView]:
    units = await UnitRepository(session).list_all()
    code_of_id = {u.id: u.code for u in units}
    return [
        UnitView(
            u.id,
            u.code,
            u.name,
            u.level,
            u.depth,
            code_of_id.get(u.parent_id) if u.parent_id else None,
            u.path,
        )
        for u in units
    ]
