"""``fieldbot directive send`` and ``fieldbot group set``: for headquarters systems and admins."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.core.clock import SystemClock
from bot.core.config import Config
from bot.core.i18n import t
from bot.core.parsing import MAX_TELEGRAM_ID, has_visible, is_int
from bot.core.timefmt import local, parse_when
from bot.services import directives
from bot.services.authz import Actor, NotAllowed
from bot.services.directive_text import asked_level, checked_number, level_label
from bot.services.directives import DirectiveError, Target
from bot.services.members import find_member_by_ref
from bot.services.quiet import QuietHours
from storage.db import Database

Action = Callable[[Config, Database, argparse.Namespace], Awaitable[int]]


def add_parsers(commands: argparse._SubParsersAction) -> None:
    directive = commands.add_parser("directive", help="directives").add_subparsers(
        dest="directive_command", required=True
    )
    send = directive.add_parser("send", help="send a directive on a member's behalf")
    send.add_argument(
        "--from",
        dest="sender",
        required=True,
        help="member id, @username or Telegram user id of the coordinator",
    )
    send.add_argument(
        "--to", required=True, help="subtree | level:LEVEL | list:CODE1,CODE2 | group:NAME"
    )
    send.add_argument("--text-file", type=Path, required=True, help="UTF-8 text of the directive")
    send.add_argument("--ack-by", required=True, help="e.g. 48h or '17:00 25/11/2026' (local)")
    send.add_argument(
        "--urgency",
        help="độ khẩn: thuong (default), khan, thuong_khan or hoa_toc (Hỏa tốc goes through "
        "quiet hours)",
    )
    send.add_argument("--urgent", action="store_true", help="the same as --urgency hoa_toc")
    send.add_argument("--number", help="số hiệu of the directive, e.g. 125/CV-BCĐ")

    group = commands.add_parser("group", help="saved unit groups").add_subparsers(
        dest="group_command", required=True
    )
    define = group.add_parser("set", help="create or replace a named group of units")
    define.add_argument("name")
    define.add_argument("--units", required=True, help="comma-separated unit codes")


def is_member_ref(ref: str) -> bool:
    """``@username``, or a member or Telegram user id in ASCII digits within Telegram's range
    (checked here so that no lookup is asked with "²" or a 5,000-digit number)."""
    cleaned = ref.strip()
    if cleaned.startswith("@"):
        return has_visible(cleaned[1:]) and len(cleaned) <= 64
    return is_int(cleaned, low=1, high=MAX_TELEGRAM_ID)


async def _send(config: Config, db: Database, args: argparse.Namespace) -> int:
    lang, clock = config.default_language, SystemClock()
    try:
        text = args.text_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        print(t(lang, "cli.file_missing", path=args.text_file), file=sys.stderr)
        return 2
    if not is_member_ref(args.sender):
        print(t(lang, "cli.unknown_member", ref=args.sender[:40]), file=sys.stderr)
        return 2
    ack_by = parse_when(args.ack_by, clock.now(), config.tz)
    if ack_by is None:
        print(t(lang, "compose.bad_deadline"), file=sys.stderr)
        return 2
    try:  # checked before the database is opened, like the other options
        level = asked_level(args.urgency, args.urgent)
        number = checked_number(args.number)
    except DirectiveError as error:
        print(t(lang, error.key, **error.params), file=sys.stderr)
        return 2
    try:
        async with db.session() as session:
            sender = await find_member_by_ref(session, args.sender)
            if sender is None:
                print(t(lang, "cli.unknown_member", ref=args.sender), file=sys.stderr)
                return 1
            sent = await directives.send_directive(
                session,
                clock,
                sender.actor,
                text=text,
                target=Target.parse(args.to),
                ack_by=ack_by,
                urgency=level,
                document_number=number,
                tz=config.tz,
                quiet=QuietHours.of(config),
            )
    except DirectiveError as error:
        print(t(lang, error.key, **error.params), file=sys.stderr)
        return 1
    except NotAllowed as refusal:
        print(t(lang, refusal.reason), file=sys.stderr)
        return 1
    print(
        t(
            lang,
            "cli.directive_sent",
            id=sent.directive_id,
            units=sent.unit_count,
            members=sent.member_count,
            when=local(ack_by, config.tz),
        )
    )
    shown = t(lang, "urgency.number_inline", number=number) if number else ""
    print(t(lang, "urgency.cli_level", level=level_label(lang, level), number=shown))
    if sent.held_until is not None:
        print(t(lang, "directive.held", when=local(sent.held_until, config.tz)))
    return 0


async def _group_set(config: Config, db: Database, args: argparse.Namespace) -> int:
    lang = config.default_language
    codes = [c.strip() for c in args.units.split(",") if c.strip()]
    try:
        async with db.session() as session:
            count = await directives.save_group(
                session, SystemClock(), Actor.system(), args.name, codes
            )
    except DirectiveError as error:
        print(t(lang, error.key, **error.params), file=sys.stderr)
        return 1
    print(t(lang, "cli.group_saved", name=args.name, count=count))
    return 0


ACTIONS: dict[tuple[str, str], Action] = {
    ("directive", "send"): _send,
    ("group", "set"): _group_set,
}
