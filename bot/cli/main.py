"""The ``fieldbot`` command line: run the bot, manage the schema, units, invitations, members."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bot.cli import directives as cli_directives
from bot.cli import invites as cli_invites
from bot.cli import plans as cli_plans
from bot.cli.username import bot_username
from bot.core import logsafe
from bot.core.clock import SystemClock
from bot.core.config import Config, ConfigError, load_config
from bot.core.i18n import t
from bot.core.parsing import parse_positive_duration
from bot.core.qr import write_qr
from bot.core.timefmt import local
from bot.services import members as member_service
from bot.services import onboarding
from bot.services import units as unit_service
from bot.services.authz import Actor
from storage.db import Database, DatabaseUnreachable
from storage.migrate import upgrade
from storage.models import Role

EXIT_USAGE = 2
EXIT_FAILED = 1

log = logging.getLogger("fieldbot")


def secrets_of(config: Config) -> list[str]:
    """What the logs must never show: the token and the database password."""
    from sqlalchemy.engine import make_url

    password = make_url(config.database.url).password
    return [config.telegram.token, str(password or "")]


def setup_logging(config: Config, level: str, verbose: bool = False) -> None:
    """Log to stderr, every handler behind the filter that masks secrets. Alembic's lines
    (which migration ran, which dialect) only with ``-v``."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(level if verbose else logging.WARNING)
    logsafe.install(secrets_of(config))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fieldbot", description="Field coordination bot")
    parser.add_argument(
        "--config", help="path to config.toml (default: $FIELDBOT_CONFIG or ./config.toml)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log what happens, migrations included"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot against Telegram (needs a token)")
    demo = commands.add_parser("demo", help="play a scripted demo against the built-in emulator")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply every migration")

    units = commands.add_parser("units", help="organisation tree").add_subparsers(
        dest="units_command", required=True
    )
    imp = units.add_parser(
        "import", help="create/update units from CSV: code,name,level,parent_code"
    )
    imp.add_argument("file", type=Path)
    units.add_parser("list", help="print the tree")

    invite = commands.add_parser("invite", help="invitations").add_subparsers(
        dest="invite_command", required=True
    )
    create = invite.add_parser("create", help="create an invitation link and QR code")
    create.add_argument("--unit", required=True, help="unit code")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--uses", type=int, default=1)
    create.add_argument("--expires", default=None, help="validity, e.g. 7d (default from config)")
    create.add_argument("--auto-approve", action="store_true")
    create.add_argument("--qr", type=Path, default=None, help="where to write the QR PNG")
    cli_invites.add_parser(invite)

    members = commands.add_parser("members", help="members").add_subparsers(
        dest="members_command", required=True
    )
    listing = members.add_parser("list", help="list members")
    listing.add_argument("--unit", default=None, help="only this unit's subtree")
    cli_directives.add_parsers(commands)
    cli_plans.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Opt in to python-telegram-bot's timedelta durations now rather than warn on every 429.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(t(None, "cli.config_error", key=exc.key, message=exc.message), file=sys.stderr)
        return EXIT_USAGE
    # The bot logs at the configured level; a one-off command only says what went wrong,
    # unless -v asks for the rest.
    level = config.logging.level.upper() if args.command == "run" or args.verbose else "WARNING"
    setup_logging(config, level, args.verbose)
    if args.command == "run":
        return _run(config)
    if args.command == "demo":
        from bot.demo.main import run_demo

        return asyncio.run(run_demo(quiet=args.quiet))
    if args.command == "db":  # db upgrade: the migrations are the command itself
        return asyncio.run(_db_upgrade(config))
    action = _ACTIONS[(args.command, getattr(args, f"{args.command}_command"))]
    return asyncio.run(_with_db(config, lambda db: action(config, db, args)))


def _run(config: Config) -> int:
    lang = config.default_language
    if not config.telegram.token:
        print(t(lang, "cli.no_token"), file=sys.stderr)
        return EXIT_USAGE
    from telegram.error import InvalidToken

    from bot.runner import run_forever

    try:
        asyncio.run(_reach_database(config))  # before waiting for Telegram, say it now
        run_forever(config)
    except InvalidToken:  # its message carries the token: say it plainly instead
        print(t(lang, "cli.token_rejected"), file=sys.stderr)
        return EXIT_USAGE
    except DatabaseUnreachable as error:
        _unreachable(lang, error)
        return EXIT_FAILED
    except Exception:  # the traceback goes through the logs, where secrets are masked
        log.critical("fieldbot stopped on an error", exc_info=True)
        return EXIT_FAILED
    return 0


async def _reach_database(config: Config) -> None:
    db = Database(config.database.url)
    try:
        await db.reach()
    finally:
        await db.dispose()


def _unreachable(lang: str, error: DatabaseUnreachable) -> None:
    print(t(lang, "cli.db_unreachable", where=error.where, reason=error.reason), file=sys.stderr)


async def _with_db(
    config: Config, body: Callable[[Database], Awaitable[int]], migrate: bool = True
) -> int:
    db = Database(config.database.url, config.database.echo)
    try:
        await db.reach()
        if migrate:
            await upgrade(db.engine)
        return await body(db)
    except DatabaseUnreachable as error:
        _unreachable(config.default_language, error)
        return EXIT_FAILED
    finally:
        await db.dispose()


async def _db_upgrade(config: Config) -> int:
    async def body(db: Database) -> int:
        before, after = await upgrade(db.engine)
        lang = config.default_language
        if before == after:
            print(t(lang, "cli.db_current", revision=after))
        else:
            print(t(lang, "cli.db_upgraded", before=before or "—", revision=after))
        return 0

    return await _with_db(config, body, migrate=False)


async def _units_import(config: Config, db: Database, args: argparse.Namespace) -> int:
    lang = config.default_language
    if not args.file.is_file():
        print(t(lang, "cli.file_missing", path=args.file), file=sys.stderr)
        return EXIT_USAGE
    try:
        async with db.session() as session:
            summary = await unit_service.import_units(
                session, SystemClock(), Actor.system(), args.file.read_bytes()
            )
    except unit_service.UnitImportError as error:
        print(cli_plans.format_errors(lang, error.errors), file=sys.stderr)
        return 1
    print(
        t(
            lang,
            "units_import.done",
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
        )
    )
    return 0


async def _units_list(config: Config, db: Database, args: argparse.Namespace) -> int:
    async with db.session() as session:
        units = await unit_service.list_units(session)
    if not units:
        print(t(config.default_language, "cli.units_empty"))
        return 0
    print(t(config.default_language, "cli.units_header"))
    for unit in units:
        parent = unit.parent_code or "-"
        print(f"{'  ' * unit.depth}{unit.code} | {unit.name} | {unit.level} | {parent}")
    return 0


async def _invite_create(config: Config, db: Database, args: argparse.Namespace) -> int:
    lang = config.default_language
    username = await bot_username(config, lang)
    if not username:
        return EXIT_USAGE
    try:
        ttl = (
            parse_positive_duration(args.expires) if args.expires else config.onboarding.invite_ttl
        )
        async with db.session() as session:
            created = await onboarding.create_invitation(
                session,
                SystemClock(),
                Actor.system(),
                args.unit,
                Role(args.role),
                uses=args.uses,
                ttl=ttl,
                auto_approve=args.auto_approve,
            )
    except ValueError as exc:
        key = exc.key if isinstance(exc, onboarding.InvalidInvitation) else "invite.bad_ttl"
        print(t(lang, key), file=sys.stderr)
        return EXIT_USAGE
    except onboarding.UnknownUnit as exc:
        print(t(lang, "cli.unknown_unit", code=exc.code), file=sys.stderr)
        return 1
    link = onboarding.deep_link(username, created.code)
    qr_path = (
        args.qr or Path(config.onboarding.qr_dir) / f"invite-{created.id}-{created.unit_code}.png"
    )
    write_qr(link, qr_path)
    print(
        t(
            lang,
            "cli.invite_created",
            link=link,
            unit=created.unit_name,
            code=created.unit_code,
            role=member_service.role_label(lang, created.role),
            uses=created.max_uses,
            expires=local(created.expires_at, config.tz),
            auto=t(lang, "cli.invite_auto") if created.auto_approve else "",
            qr=qr_path,
        )
    )
    return 0


async def _members_list(config: Config, db: Database, args: argparse.Namespace) -> int:
    lang = config.default_language
    async with db.session() as session:
        scope = await unit_service.unit_path(session, args.unit) if args.unit else "/"
        if scope is None:
            print(t(lang, "cli.unknown_unit", code=args.unit), file=sys.stderr)
            return 1
        members = await member_service.list_members(session, Actor.system(), scope)
    if not members:
        print(t(lang, "cli.members_empty"))
        return 0
    print(t(lang, "cli.members_header"))
    for m in members:
        print(
            f"{m.id} | {m.full_name} | {m.unit_code} | {member_service.role_label(lang, m.role)}"
            f" | {member_service.status_label(lang, m.status)} | {m.language}"
        )
    return 0


_ACTIONS: dict[
    tuple[str, str], Callable[[Config, Database, argparse.Namespace], Awaitable[int]]
] = {
    ("units", "import"): _units_import,
    ("units", "list"): _units_list,
    ("invite", "create"): _invite_create,
    ("invite", "bulk"): cli_invites.invite_bulk,
    ("members", "list"): _members_list,
    **cli_directives.ACTIONS,
    **cli_plans.ACTIONS,
}
