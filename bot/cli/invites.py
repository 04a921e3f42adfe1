"""``fieldbot invite bulk``: one invitation per unit of a level under a unit, for a meeting: a
CSV of the links and a PDF of their QR codes. All the invitations or none, and no file unless
every invitation was made."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cli.username import bot_username
from bot.core.clock import SystemClock
from bot.core.config import Config
from bot.core.i18n import t, t_or
from bot.core.parsing import ParseError, parse_positive_duration
from bot.core.timefmt import local
from bot.services import invitations_bulk, invite_sheets, onboarding
from bot.services.authz import Actor
from bot.services.invitations_bulk import UnitInvitation
from bot.services.members import role_label
from storage.db import Database
from storage.models import Role

EXIT_USAGE = 2
SPREADSHEET_TIME = "%d/%m/%Y %H:%M"  # what Excel reads as a date and time in a Vietnamese locale


def add_parser(invite: argparse._SubParsersAction) -> None:
    bulk = invite.add_parser(
        "bulk",
        help="one invitation per unit of a level under a unit: CSV of links, PDF of QR codes",
    )
    bulk.add_argument(
        "--under", required=True, metavar="CODE", help="unit code (included if of that level)"
    )
    bulk.add_argument("--level", required=True, help="unit level, e.g. commune")
    bulk.add_argument("--role", required=True, help="officer, coordinator or observer")
    bulk.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE.csv",
        help="the CSV to write (PDF beside it)",
    )
    bulk.add_argument("--uses", type=int, default=1, help="uses per link (default 1)")
    bulk.add_argument("--expires", default=None, help="validity, e.g. 14d (default from config)")
    bulk.add_argument("--auto-approve", action="store_true")
    bulk.add_argument(
        "--yes", action="store_true", help=f"allow more than {invitations_bulk.BULK_LIMIT} units"
    )


def _fail(lang: str, key: str, **params: object) -> int:
    print(t(lang, key, **params), file=sys.stderr)
    return EXIT_USAGE


def _unwritable(lang: str, exc: OSError, path: Path) -> int:
    shown = exc.filename or path
    return _fail(lang, "invites.bulk_unwritable", path=shown, reason=exc.strerror or exc)


def _count(n: int) -> str:
    return f"{n:,}".replace(",", ".")


async def invite_bulk(config: Config, db: Database, args: argparse.Namespace) -> int:
    lang = config.default_language
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # it logs each font subset at INFO
    role = next((r for r in invitations_bulk.BULK_ROLES if r.value == args.role), None)
    if role is None:
        return _fail(lang, "invite.bad_role", role=args.role)
    try:
        ttl = (
            parse_positive_duration(args.expires) if args.expires else config.onboarding.invite_ttl
        )
    except ParseError:
        return _fail(lang, "invite.bad_ttl")
    out: Path = args.out
    if out.suffix.lower() != ".csv":
        return _fail(lang, "invites.bulk_not_csv")
    pdf_path = out.with_suffix(".pdf")
    username = await bot_username(config, lang)
    if not username:
        return EXIT_USAGE
    try:
        invite_sheets.check_writable([out, pdf_path])
    except OSError as exc:
        return _unwritable(lang, exc, out)
    try:
        async with db.session() as session:
            batch = await invitations_bulk.create_invitations_under(
                session,
                SystemClock(),
                Actor.system(),
                args.under,
                args.level,
                role,
                uses=args.uses,
                ttl=ttl,
                auto_approve=args.auto_approve,
                limit=None if args.yes else invitations_bulk.BULK_LIMIT,
            )
            scope = t(lang, "invites.unit_ref", name=batch.under_name, code=batch.under_code)
            made = batch.invitations
            files, pages = _files(config, lang, username, made, role, args.level, scope)
            invite_sheets.write_private({out: files[0], pdf_path: files[1]})
    except onboarding.InvalidInvitation as exc:
        return _fail(lang, exc.key, role=args.role)
    except onboarding.UnknownUnit as exc:
        return _fail(lang, "invites.bulk_unknown_unit", code=exc.code)
    except invitations_bulk.UnknownLevel as exc:
        if not exc.known:
            return _fail(lang, "invites.bulk_no_levels", level=exc.level)
        return _fail(
            lang, "invites.bulk_unknown_level", level=exc.level, known=", ".join(exc.known)
        )
    except invitations_bulk.NoUnitsAtLevel as exc:
        scope = t(lang, "invites.unit_ref", name=exc.name, code=exc.code)
        if not exc.below:
            return _fail(lang, "invites.bulk_leaf", scope=scope, level=exc.level)
        below = ", ".join(exc.below)
        return _fail(lang, "invites.bulk_no_units", scope=scope, level=exc.level, below=below)
    except invitations_bulk.TooManyUnits as exc:
        return _fail(
            lang, "invites.bulk_too_many", count=_count(exc.count), limit=_count(exc.limit)
        )
    except OSError as exc:  # the transaction was rolled back: no invitation without its file
        return _unwritable(lang, exc, out)
    missing = invite_sheets.missing_glyphs([scope, *(m.invitation.unit_name for m in made)])
    if missing:
        print(
            t(lang, "invites.bulk_missing_glyphs", chars=" ".join(sorted(missing))), file=sys.stderr
        )
    first = made[0].invitation
    print(
        t(
            lang,
            "invites.bulk_done",
            count=_count(len(made)),
            role=role_label(lang, role),
            level=_level(lang, args.level),
            scope=scope,
            uses=first.max_uses,
            expires=local(first.expires_at, config.tz),
            auto=t(lang, "invites.bulk_auto") if first.auto_approve else "",
            csv=out,
            pdf=pdf_path,
            pages=pages,
        )
    )
    return 0


def _level(lang: str, level: str) -> str:
    return t_or(lang, f"levels.{level}", level)


def _files(
    config: Config,
    lang: str,
    username: str,
    made: list[UnitInvitation],
    role: Role,
    level: str,
    scope: str,
) -> tuple[tuple[bytes, bytes], int]:
    """The CSV and the PDF of a batch, and the PDF's number of pages."""
    tz: ZoneInfo = config.tz
    role_text = role_label(lang, role)
    links = [onboarding.deep_link(username, m.invitation.code) for m in made]
    header = [
        t(lang, f"invites.col_{c}")
        for c in ("code", "name", "level", "parent", "role", "link", "expires")
    ]
    rows = [
        [
            m.invitation.unit_code,
            m.invitation.unit_name,
            _level(lang, m.level),
            t(lang, "invites.unit_ref", name=m.parent_name, code=m.parent_code)
            if m.parent_code
            else "",
            role_text,
            link,
            m.invitation.expires_at.astimezone(tz).strftime(SPREADSHEET_TIME),
        ]
        for m, link in zip(made, links, strict=True)
    ]
    cards = [
        invite_sheets.Card(m.invitation.unit_name, m.invitation.unit_code, link)
        for m, link in zip(made, links, strict=True)
    ]
    sheet_header = t(
        lang,
        "invites.sheet_header",
        role=role_text,
        level=_level(lang, level),
        scope=scope,
        expires=local(made[0].invitation.expires_at, tz),
    )
    pdf = invite_sheets.sheet_pdf(
        cards,
        sheet_header,
        lambda page, pages: t(lang, "invites.sheet_page", page=page, pages=pages),
        t(lang, "invites.sheet_footer"),
    )
    return (invite_sheets.csv_bytes(header, rows), pdf), invite_sheets.pages_for(len(cards))
