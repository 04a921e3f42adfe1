"""``fieldbot plan import FILE``: a plan and its tasks from TOML or CSV, all or nothing.

Deadlines may be relative to the event date (``event-14d``). Every row is checked (titles,
deadlines, targets resolved against the tree) before anything is written; problems are
reported together, each with its line.

A file over a plan that exists adds tasks to it; with ``--update`` (``plan_update`` shows,
``apply_update`` applies) it may also move the event date, and with it every open deadline
given relative to the event, and change the deadlines of the tasks it names.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import ConfigError, RemindersConfig, reminders_for_plan
from bot.core.parsing import MAX_YEAR, MIN_YEAR, ParseError, checked_date
from bot.services import deadlines, plans
from bot.services.authz import Actor
from bot.services.directives import Target, resolve
from bot.services.errors import ServiceError
from bot.services.quiet import QuietHours
from bot.services.units import RowError
from storage.models import MemberStatus, Plan, Role, Task, Unit
from storage.repositories.deadlines import DeadlineRepository
from storage.repositories.tasks import PlanRepository, TaskRepository
from storage.repositories.units import UnitRepository

CSV_COLUMNS = ("title", "description", "deadline", "assign")
PLAN_FIELDS = ("code", "title", "event_date", "owner", "tasks", "reminders")
MAX_TASKS = 500
_TASKS_HEADER = re.compile(r"\s*\[\[\s*tasks\s*\]\]")


class PlanImportError(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the plan file")
        self.errors = sorted(errors, key=lambda e: e.line)


@dataclass(frozen=True)
class TaskSpec:
    line: int
    title: str
    description: str
    deadline: str
    assign: str


@dataclass
class PlanSpec:
    code: str = ""
    title: str = ""
    event_date: date | None = None
    owner: str = ""
    tasks: list[TaskSpec] = field(default_factory=list)
    reminders: dict[str, Any] = field(default_factory=dict)  # the plan's own [reminders]
    reminders_line: int = 1
    event_date_line: int = 1


@dataclass(frozen=True)
class Imported:
    plan_id: int
    code: str
    created: bool
    tasks: int
    assignments: int
    notified: int


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _string(table: dict[str, Any], key: str, line: int, errors: list[RowError]) -> str:
    """A text field: absent is empty; a number, list or table in its place is an error (``5``
    is not a deadline, ``{a = 1}`` not a title), and so is a NUL the database would refuse."""
    value = table.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(RowError(line, "input.file_not_text", {"field": key}))
        return ""
    if "\x00" in value:
        errors.append(RowError(line, "input.file_nul"))
        return ""
    return value.strip()


def _date(value: Any, line: int, errors: list[RowError]) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        day: date | None = value
    elif isinstance(value, str) and value.strip().isascii():
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            day = None
    else:
        day = None
    if day is None:
        shown = _text(value)[:40]
        errors.append(RowError(line, "plan_import.bad_event_date", {"value": shown}))
        return None
    try:
        return checked_date(day)
    except ParseError:
        errors.append(
            RowError(
                line,
                "input.file_event_date_range",
                {"value": day.isoformat(), "low": MIN_YEAR, "high": MAX_YEAR},
            )
        )
        return None


def _key_line(lines: list[str], key: str) -> int:
    """The line where a top-level ``key`` is set (1 if it cannot be told)."""
    pattern = re.compile(rf"\s*\[?\s*\"?{re.escape(key)}\"?\s*[=\]]")
    return next((n for n, text in enumerate(lines, 1) if pattern.match(text)), 1)


def _toml_error_line(text: str, exc: ValueError) -> int:
    if m := re.search(r"line (\d+)", str(exc)):
        return int(m[1])
    # tomllib names no line when int() refuses a number of thousands of digits
    if m := re.search(r"[0-9_]{4000,}", text):
        return text.count("\n", 0, m.start()) + 1
    return 1


def _task(line: int, values: dict[str, Any]) -> TaskSpec:
    return TaskSpec(
        line,
        _text(values.get("title")),
        _text(values.get("description")),
        _text(values.get("deadline")),
        _text(values.get("assign")),
    )


def parse_toml(data: bytes) -> PlanSpec:
    """``code``, ``title``, ``event_date``, ``owner``, ``[[tasks]]`` tables and an optional
    ``[reminders]`` table (the plan's own reminder timing)."""
    errors: list[RowError] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PlanImportError([RowError(line, "units_import.not_utf8")]) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc)[:200]
        raise PlanImportError(
            [RowError(_toml_error_line(text, exc), "plan_import.bad_toml", {"detail": detail})]
        ) from None
    except ValueError as exc:  # a number of thousands of digits, which int() refuses
        raise PlanImportError(
            [RowError(_toml_error_line(text, exc), "input.file_huge_number")]
        ) from None
    lines = text.splitlines()
    header_lines = [n for n, line in enumerate(lines, 1) if _TASKS_HEADER.match(line)]
    unknown_top = sorted(set(document) - set(PLAN_FIELDS))
    for key in unknown_top:
        errors.append(
            RowError(_key_line(lines, key), "plan_import.unknown_fields", {"fields": key})
        )
    code, title, owner = (
        _string(document, key, _key_line(lines, key), errors) for key in ("code", "title", "owner")
    )
    spec = PlanSpec(code=code, title=title, owner=owner)
    if "event_date" in document:
        spec.event_date_line = _key_line(lines, "event_date")
        spec.event_date = _date(document["event_date"], spec.event_date_line, errors)
    if "reminders" in document:
        spec.reminders_line = _key_line(lines, "reminders")
        if isinstance(document["reminders"], dict):
            spec.reminders = document["reminders"]
        else:
            errors.append(
                RowError(spec.reminders_line, "input.file_not_table", {"field": "reminders"})
            )
    tasks = document.get("tasks", [])
    if not isinstance(tasks, list):
        raise PlanImportError(
            [*errors, RowError(_key_line(lines, "tasks"), "plan_import.no_tasks")]
        )
    inline = _key_line(lines, "tasks")  # ``tasks = [{...}]`` has no [[tasks]] headers
    for index, item in enumerate(tasks):
        line = header_lines[index] if index < len(header_lines) else inline
        if not isinstance(item, dict):
            errors.append(RowError(line, "plan_import.no_tasks"))
            continue
        unknown = sorted(set(item) - set(CSV_COLUMNS))
        if unknown:
            errors.append(
                RowError(line, "plan_import.unknown_fields", {"fields": ", ".join(unknown)})
            )
            continue
        before = len(errors)
        fields = {key: _string(item, key, line, errors) for key in CSV_COLUMNS}
        if len(errors) == before:
            spec.tasks.append(_task(line, fields))
    if errors:
        raise PlanImportError(errors)
    return spec


def parse_csv(data: bytes, spec: PlanSpec) -> PlanSpec:
    """Rows of ``title,description,deadline,assign``; the plan itself comes from ``spec``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PlanImportError([RowError(line, "units_import.not_utf8")]) from None
    if "\x00" in text:  # csv reads NUL as a character; the database would refuse it later
        raise PlanImportError(
            [RowError(text.count("\n", 0, text.index("\x00")) + 1, "input.file_nul")]
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
        missing = [c for c in CSV_COLUMNS if c not in header and c != "description"]
        if missing:
            raise PlanImportError(
                [RowError(1, "plan_import.missing_columns", {"columns": ", ".join(missing)})]
            )
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            spec.tasks.append(_task(reader.line_num, dict(zip(header, row, strict=False))))
    except StopIteration:
        raise PlanImportError([RowError(1, "units_import.empty")]) from None
    except csv.Error as exc:  # e.g. a field over csv's size limit, an unclosed quote
        raise PlanImportError(
            [RowError(max(1, reader.line_num), "input.file_bad_csv", {"detail": str(exc)[:200]})]
        ) from None
    return spec


def parse_plan_file(name: str, data: bytes, defaults: PlanSpec) -> PlanSpec:
    """A TOML file by its ``.toml`` name, else CSV; options in ``defaults`` fill the gaps."""
    if name.lower().endswith(".toml"):
        spec = parse_toml(data)
        spec.code = spec.code or defaults.code
        spec.title = spec.title or defaults.title
        if spec.event_date is None:
            spec.event_date, spec.event_date_line = defaults.event_date, 1
        spec.owner = spec.owner or defaults.owner
        return spec
    return parse_csv(
        data, PlanSpec(defaults.code, defaults.title, defaults.event_date, defaults.owner)
    )


async def _plan_of(
    session: AsyncSession, spec: PlanSpec, errors: list[RowError]
) -> tuple[Plan | None, Unit | None]:
    existing = await PlanRepository(session).get_by_code(spec.code) if spec.code else None
    if existing is not None:
        return existing, await UnitRepository(session).get(existing.owner_unit_id)
    for value, key in ((spec.code, "code"), (spec.title, "title"), (spec.owner, "owner")):
        if not value:
            errors.append(RowError(1, "plan_import.missing_field", {"field": key}))
    if spec.event_date is None:
        errors.append(RowError(1, "plan_import.missing_field", {"field": "event_date"}))
    owner = await UnitRepository(session).get_by_code(spec.owner) if spec.owner else None
    if spec.owner and owner is None:
        errors.append(RowError(1, "plan_import.unknown_owner", {"code": spec.owner}))
    for check, value in ((plans.checked_code, spec.code), (plans.checked_title, spec.title)):
        try:
            if value:
                check(value)
        except ServiceError as error:
            errors.append(RowError(1, error.key, dict(error.params)))
    return None, owner


async def import_plan(
    session: AsyncSession,
    clock: Clock,
    spec: PlanSpec,
    tz: ZoneInfo,
    quiet: QuietHours | None = None,
) -> Imported:
    """Check every task, then write the plan (if new), the tasks and their assignments.

    A plan that exists is only added to: a file giving it another event date is refused (the
    move is ``plan_update``/``apply_update``, shown and confirmed first)."""
    errors: list[RowError] = []
    plan, owner = await _plan_of(session, spec, errors)
    if plan is not None and spec.event_date not in (None, plan.event_date):
        raise PlanImportError([_event_refusal(plan, spec)])
    _check_plan_fields(spec, errors)
    event_date = plan.event_date if plan else spec.event_date
    taken = await TaskRepository(session).titles_in_plan(plan.id) if plan else set()
    now = clock.now()
    checked = await _check_rows(session, spec.tasks, owner, event_date, now, tz, taken, errors)
    if errors or owner is None or event_date is None:
        raise PlanImportError(errors)
    created = plan is None
    if plan is None:
        plan = await plans.create_plan(
            session,
            clock,
            Actor.system(),
            code=spec.code,
            title=spec.title,
            event_date=event_date,
            owner=owner,
        )
    if spec.reminders:
        plan.settings = {**(plan.settings or {}), "reminders": dict(spec.reminders)}
    written = await _write_rows(session, clock, owner, plan, checked)
    notified = await plans.notify_plan_import(session, now, plan, written, quiet)
    return Imported(
        plan.id, plan.code, created, len(written), sum(len(u) for _, u in written), notified
    )


def _event_refusal(plan: Plan, spec: PlanSpec) -> RowError:
    old, new = plan.event_date, spec.event_date or plan.event_date
    params = {"code": plan.code, "old": _day(old), "new": _day(new)}
    return RowError(spec.event_date_line, "plan_import.event_date_moved", params)


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _check_plan_fields(spec: PlanSpec, errors: list[RowError]) -> None:
    if spec.reminders:
        try:
            reminders_for_plan(RemindersConfig(), spec.reminders)
        except ConfigError as error:
            errors.append(
                RowError(spec.reminders_line, "plan.bad_reminders", {"detail": str(error)})
            )
    if not spec.tasks:
        errors.append(RowError(1, "plan_import.no_tasks"))
    if len(spec.tasks) > MAX_TASKS:
        errors.append(RowError(1, "plan_import.too_many", {"max": MAX_TASKS}))


def _scope(owner: Unit | None) -> Actor:
    """Targets are read from the owner unit down, as if its coordinator had typed them."""
    return Actor(None, Role.ADMIN, MemberStatus.ACTIVE, owner.path if owner else "/", "cli")


async def _check_rows(
    session: AsyncSession,
    rows: list[TaskSpec],
    owner: Unit | None,
    event_date: date | None,
    now: datetime,
    tz: ZoneInfo,
    taken: set[str],
    errors: list[RowError],
) -> list[tuple[TaskSpec, datetime, Target]]:
    """The rows that are good new tasks; the others' problems go to ``errors``."""
    scope, seen = _scope(owner), dict[str, int]()
    checked: list[tuple[TaskSpec, datetime, Target]] = []
    for task in rows:
        row_errors, deadline, target = _check_task(task, event_date, now, tz, taken, seen)
        if deadline is None or target is None:
            errors.extend(row_errors)
            continue
        try:
            if owner is not None:
                await resolve(session, scope, target)  # units exist and lie under the owner
        except ServiceError as error:
            errors.append(RowError(task.line, error.key, dict(error.params)))
            continue
        checked.append((task, deadline, target))
    return checked


async def _write_rows(
    session: AsyncSession,
    clock: Clock,
    owner: Unit,
    plan: Plan,
    checked: list[tuple[TaskSpec, datetime, Target]],
) -> list[tuple[Task, list[Unit]]]:
    written: list[tuple[Task, list[Unit]]] = []
    for task, deadline, target in checked:
        written.append(
            await plans.add_task(
                session,
                clock,
                _scope(owner),
                plan,
                title=task.title,
                description=task.description,
                deadline=deadline,
                target=target,
                event_offset_minutes=plans.event_offset(task.deadline),
            )
        )
    return written


def _check_task(
    task: TaskSpec,
    event_date: date | None,
    now: datetime,
    tz: ZoneInfo,
    taken: set[str],
    seen: dict[str, int],
) -> tuple[list[RowError], datetime | None, Target | None]:
    """A row's own problems; its deadline and target only when it has none."""
    errors: list[RowError] = []
    for check, value in (
        (plans.checked_title, task.title),
        (plans.checked_description, task.description),
    ):
        try:
            check(value)
        except ServiceError as error:
            errors.append(RowError(task.line, error.key, dict(error.params)))
    title = " ".join(task.title.split())
    if title in taken:
        errors.append(RowError(task.line, "plan_import.task_exists", {"title": title}))
    elif title and title in seen:
        errors.append(RowError(task.line, "plan_import.duplicate_task", {"first": seen[title]}))
    seen.setdefault(title, task.line)
    if task.deadline.lower().startswith("event") and event_date is None:
        errors.append(RowError(task.line, "plan_import.relative_without_event"))
        return errors, None, None
    deadline = plans.parse_deadline(task.deadline, event_date or now.date(), now, tz)
    if deadline is None:
        errors.append(RowError(task.line, "plan_import.bad_deadline", {"value": task.deadline}))
    elif deadline <= now:
        errors.append(RowError(task.line, "plan_import.deadline_past", {"value": task.deadline}))
    target = None
    try:
        target = Target.parse(task.assign or "subtree")
    except ServiceError as error:
        errors.append(RowError(task.line, error.key, dict(error.params)))
    if errors or deadline is None or deadline <= now:
        return errors, None, None
    return errors, deadline, target


# -- --update: a changed file over its plan, shown first, then applied ---------------------


@dataclass(frozen=True)
class PlanUpdate:
    """What importing a changed file over its existing plan would do."""

    plan_id: int
    code: str
    old_event: date
    new_event: date
    changes: deadlines.EventChanges
    added: tuple[tuple[str, datetime], ...]  # new tasks: title, deadline
    reminders: bool  # the file sets the plan's own reminder timing anew

    @property
    def empty(self) -> bool:
        return (
            self.old_event == self.new_event
            and not self.changes.changed
            and not self.added
            and not self.reminders
        )

    def signature(self) -> tuple[Any, ...]:
        """What must not change between showing the update and applying it (the times of
        rows typed relative to now, ``3d``, move with the clock and do not count)."""
        kinds = self.changes
        return (
            self.plan_id,
            self.old_event,
            self.new_event,
            tuple((c.task_id, c.old) for c in kinds.changed),
            tuple(c.task_id for c in kinds.passed),
            tuple(c.task_id for c in kinds.too_late),
            tuple(title for title, _ in self.added),
            self.reminders,
        )


@dataclass(frozen=True)
class Updated:
    update: PlanUpdate
    assignments: int  # of the added tasks
    notified: int


async def plan_update(
    session: AsyncSession, clock: Clock, spec: PlanSpec, tz: ZoneInfo
) -> PlanUpdate | None:
    """What importing ``spec`` over its plan would change, writing nothing; None when the plan
    does not exist yet (an ordinary import creates it)."""
    plan = await PlanRepository(session).get_by_code(spec.code) if spec.code else None
    if plan is None:
        return None
    update, _ = await _update_of(session, clock.now(), spec, plan, tz)
    return update


async def apply_update(
    session: AsyncSession,
    clock: Clock,
    spec: PlanSpec,
    tz: ZoneInfo,
    shown: PlanUpdate,
    quiet: QuietHours | None = None,
) -> Updated:
    """Apply the update that was ``shown``; refused if the plan changed since."""
    plan = await PlanRepository(session).get(shown.plan_id)
    if plan is None or plan.code != spec.code:
        raise PlanImportError([RowError(1, "plan_import.changed_meanwhile")])
    now = clock.now()
    update, checked = await _update_of(session, now, spec, plan, tz)
    owner = await UnitRepository(session).get(plan.owner_unit_id)
    if update.signature() != shown.signature() or owner is None:
        raise PlanImportError([RowError(1, "plan_import.changed_meanwhile")])
    if spec.reminders:
        plan.settings = {**(plan.settings or {}), "reminders": dict(spec.reminders)}
    tasks = {t.id: t for t in await DeadlineRepository(session).open_tasks_of_plan(plan.id)}
    moves = [(tasks[c.task_id], c.new, c.event_offset) for c in update.changes.changed]
    try:
        moved = await deadlines.move_event(
            session, now, Actor.system(), plan, update.new_event, moves, tz, quiet
        )
    except deadlines.DeadlineError:  # a deadline moved in chat since the check above
        raise PlanImportError([RowError(1, "plan_import.changed_meanwhile")]) from None
    written = await _write_rows(session, clock, owner, plan, checked)
    notified = await plans.notify_plan_import(session, now, plan, written, quiet)
    return Updated(update, sum(len(u) for _, u in written), moved.units + notified)


async def _update_of(
    session: AsyncSession, now: datetime, spec: PlanSpec, plan: Plan, tz: ZoneInfo
) -> tuple[PlanUpdate, list[tuple[TaskSpec, datetime, Target]]]:
    """The update and the new rows, checked; PlanImportError naming every bad line."""
    errors: list[RowError] = []
    _check_plan_fields(spec, errors)
    owner = await UnitRepository(session).get(plan.owner_unit_id)
    new_event = spec.event_date or plan.event_date
    titles = await TaskRepository(session).titles_in_plan(plan.id)
    named: dict[str, str] = {}  # existing task's title -> the deadline its row gives
    lines: dict[str, int] = {}
    fresh = []
    for row in spec.tasks:
        title = " ".join(row.title.split())
        if title not in titles:
            fresh.append(row)
        elif title in lines:
            errors.append(RowError(row.line, "plan_import.duplicate_task", {"first": lines[title]}))
        elif plans.parse_deadline(row.deadline, new_event, now, tz) is None:
            errors.append(RowError(row.line, "plan_import.bad_deadline", {"value": row.deadline}))
        else:
            named[title], lines[title] = row.deadline, row.line
    checked = await _check_rows(session, fresh, owner, new_event, now, tz, set(), errors)
    if errors or owner is None:
        raise PlanImportError(errors)
    open_tasks = await DeadlineRepository(session).open_tasks_of_plan(plan.id)
    changes = deadlines.event_changes(open_tasks, named, plan.event_date, new_event, now, tz)
    own = (plan.settings or {}).get("reminders")
    update = PlanUpdate(
        plan.id,
        plan.code,
        plan.event_date,
        new_event,
        changes,
        tuple((task.title, deadline) for task, deadline, _ in checked),
        bool(spec.reminders) and own != dict(spec.reminders),
    )
    return update, checked
