"""``fieldbot plan import FILE`` (a plan and its tasks, all or nothing; ``--update`` shows and,
once confirmed, applies a changed file over its plan) and ``fieldbot plan reminders CODE``
(the plan's own reminder settings)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.clock import SystemClock
from bot.core.config import Config
from bot.core.i18n import t
from bot.core.parsing import ParseError, format_duration, parse_date
from bot.core.timefmt import local
from bot.services import plan_import, plan_settings
from bot.services.authz import Actor
from bot.services.errors import ServiceError
from bot.services.plan_import import PlanImportError, PlanSpec, PlanUpdate, Updated
from bot.services.quiet import QuietHours
from bot.services.units import RowError
from storage.db import Database

Action = Callable[[Config, Database, argparse.Namespace], Awaitable[int]]
MAX_ERRORS_SHOWN = 50
YES = frozenset({"y", "yes", "c", "có", "co", "đồng ý"})


def add_parsers(commands: argparse._SubParsersAction) -> None:
    plan = commands.add_parser("plan", help="plans and tasks").add_subparsers(
        dest="plan_command", required=True
    )
    load = plan.add_parser(
        "import",
        help="import a plan file (TOML with [[tasks]], or CSV of title,description,deadline,"
        "assign); deadlines may be relative to the event, e.g. event-14d",
    )
    load.add_argument("file", type=Path)
    load.add_argument("--code", default="", help="plan number (CSV, or to add to a plan)")
    load.add_argument("--title", default="", help="plan title (CSV, new plan)")
    load.add_argument("--event-date", type=event_date, help="YYYY-MM-DD (CSV, new plan)")
    load.add_argument("--owner", default="", help="owner unit code (CSV, new plan)")
    load.add_argument(
        "--update",
        action="store_true",
        help="update an existing plan from a changed file: move its event date (and every "
        "open deadline relative to it), change the deadlines of the tasks the file names, add "
        "new tasks; the changes are shown and must be confirmed",
    )
    load.add_argument("--yes", action="store_true", help="with --update: apply without asking")
    remind = plan.add_parser(
        "reminders",
        help="show or set a plan's own reminder settings (over config.toml's [reminders])",
    )
    remind.add_argument("code", help="plan number, e.g. 333/KH-BCĐ")
    remind.add_argument("--offsets", help="reminders before each deadline, e.g. 7d,3d,1d,2h")
    remind.add_argument("--overdue-every", help="repeat the overdue notice, e.g. 1d")
    remind.add_argument("--escalate-after", help="report silence up this long after a deadline")
    remind.add_argument("--escalate-every", help="then one level higher this often, e.g. 1d")
    remind.add_argument("--reset", action="store_true", help="drop the plan's own settings")


def event_date(text: str) -> date:
    """``--event-date``: a calendar day in the years people plan for (argparse reports why)."""
    try:
        return parse_date(text)
    except ParseError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def format_errors(lang: str, errors: list[RowError]) -> str:
    """Problems found in an import file (units or plan), one per line, the first 50."""
    lines = [t(lang, "units_import.failed", count=len(errors))]
    for item in errors[:MAX_ERRORS_SHOWN]:
        message = t(lang, item.key, **item.params)
        lines.append(t(lang, "units_import.line", line=item.line, message=message))
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(t(lang, "units_import.more", count=len(errors) - MAX_ERRORS_SHOWN))
    return "\n".join(lines)


async def _import(config: Config, db: Database, args: argparse.Namespace) -> int:
    lang = config.default_language
    if not args.file.is_file():
        print(t(lang, "cli.file_missing", path=args.file), file=sys.stderr)
        return 2
    defaults = PlanSpec(args.code, args.title, args.event_date, args.owner)
    try:
        spec = plan_import.parse_plan_file(args.file.name, args.file.read_bytes(), defaults)
        if args.update:
            async with db.session() as session:
                shown = await plan_import.plan_update(session, SystemClock(), spec, config.tz)
            if shown is not None:
                return await _update(config, db, spec, shown, args.yes)
        async with db.session() as session:
            done = await plan_import.import_plan(
                session, SystemClock(), spec, config.tz, QuietHours.of(config)
            )
    except PlanImportError as error:
        print(format_errors(lang, error.errors), file=sys.stderr)
        if any(e.key == "plan_import.task_exists" for e in error.errors):
            print(t(lang, "plan_update.use_update", code=spec.code), file=sys.stderr)
        return 1
    created = t(lang, "plan_import.created" if done.created else "plan_import.extended")
    print(
        t(
            lang,
            "plan_import.done",
            code=done.code,
            created=created,
            tasks=done.tasks,
            assignments=done.assignments,
            notified=done.notified,
        )
    )
    return 0


def format_update(lang: str, update: PlanUpdate, tz: ZoneInfo) -> str:
    """The changes ``--update`` would make, one per line."""
    if update.empty:
        return t(lang, "plan_update.nothing", code=update.code)
    lines = [t(lang, "plan_update.header", code=update.code)]
    if update.new_event != update.old_event:
        old, new = (day.strftime("%d/%m/%Y") for day in (update.old_event, update.new_event))
        lines.append(t(lang, "plan_update.event", old=old, new=new))
    changes = update.changes
    rows = [
        ("plan_update.moved_relative" if c.follows_event else "plan_update.moved", c)
        for c in changes.changed
    ]
    rows += [("plan_update.passed", c) for c in changes.passed]
    rows += [("plan_update.too_late", c) for c in changes.too_late]
    for key, c in rows:
        old, new = local(c.old, tz), local(c.new, tz)
        lines.append(t(lang, key, id=c.task_id, title=c.title, old=old, new=new))
    for title, deadline in update.added:
        lines.append(t(lang, "plan_update.added", title=title, new=local(deadline, tz)))
    if update.reminders:
        lines.append(t(lang, "plan_update.reminders"))
    return "\n".join(lines)


def update_summary(lang: str, done: Updated) -> str:
    """What ``--update`` did, leaving out the parts that did not happen."""
    update, changes = done.update, done.update.changes
    parts = []
    if update.new_event != update.old_event:
        old, new = (day.strftime("%d/%m/%Y") for day in (update.old_event, update.new_event))
        parts.append(t(lang, "plan_update.part_event", old=old, new=new))
    for key, count in (
        ("plan_update.part_moved", len(changes.changed)),
        ("plan_update.part_passed", len(changes.passed)),
        ("plan_update.part_too_late", len(changes.too_late)),
    ):
        if count:
            parts.append(t(lang, key, count=count))
    if update.added:
        parts.append(
            t(lang, "plan_update.part_added", count=len(update.added), assignments=done.assignments)
        )
    return t(
        lang, "plan_update.done", code=update.code, parts="; ".join(parts), notified=done.notified
    )


async def _update(
    config: Config, db: Database, spec: PlanSpec, shown: PlanUpdate, yes: bool
) -> int:
    """Show what the file changes, ask (unless ``--yes``), then apply exactly that."""
    lang = config.default_language
    print(format_update(lang, shown, config.tz))
    if shown.empty:
        return 0
    if not yes and not await _agreed(t(lang, "plan_update.ask")):
        print(t(lang, "plan_update.declined"))
        return 1
    async with db.session() as session:
        done = await plan_import.apply_update(
            session, SystemClock(), spec, config.tz, shown, QuietHours.of(config)
        )
    print(update_summary(lang, done))
    return 0


async def _agreed(prompt: str) -> bool:
    """A yes typed on the terminal (or piped in); anything else, or no input, is a no."""
    try:
        answer = await asyncio.to_thread(input, prompt)
    except EOFError:
        return False
    return answer.strip().lower() in YES


async def _reminders(config: Config, db: Database, args: argparse.Namespace) -> int:
    lang = config.default_language
    changes = {
        "task_offsets": args.offsets.split(",") if args.offsets else None,
        "overdue_every": args.overdue_every,
        "escalate_after": args.escalate_after,
        "escalate_every": args.escalate_every,
    }
    try:
        async with db.session() as session:
            shown = await plan_settings.plan_reminders(
                session, Actor.system(), args.code, config.reminders, changes, reset=args.reset
            )
    except ServiceError as error:
        print(t(lang, error.key, **error.params), file=sys.stderr)
        return 1
    rem = shown.effective
    print(
        t(
            lang,
            "cli.plan_reminders",
            code=shown.code,
            offsets=", ".join(format_duration(o) for o in rem.task_offsets),
            overdue=format_duration(rem.overdue_every),
            after=format_duration(rem.escalate_after),
            every=format_duration(rem.escalate_every),
            own=", ".join(sorted(shown.own)) or "—",
        )
    )
    return 0


ACTIONS: dict[tuple[str, str], Action] = {
    ("plan", "import"): _import,
    ("plan", "reminders"): _reminders,
}
