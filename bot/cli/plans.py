"""``fieldbot plan import FILE`` (a plan and its tasks, all or nothing) and ``fieldbot plan
reminders CODE`` (the plan's own reminder settings)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from bot.core.clock import SystemClock
from bot.core.config import Config
from bot.core.i18n import t
from bot.core.parsing import ParseError, format_duration, parse_date
from bot.services import plan_import, plan_settings
from bot.services.authz import Actor
from bot.services.errors import ServiceError
from bot.services.plan_import import PlanImportError, PlanSpec
from bot.services.quiet import QuietHours
from bot.services.units import RowError
from storage.db import Database

Action = Callable[[Config, Database, argparse.Namespace], Awaitable[int]]
MAX_ERRORS_SHOWN = 50


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
        async with db.session() as session:
            done = await plan_import.import_plan(
                session, SystemClock(), spec, config.tz, QuietHours.of(config)
            )
    except PlanImportError as error:
        print(format_errors(lang, error.errors), file=sys.stderr)
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
