"""/invite: a coordinator creates an invitation link (and QR code) for a unit in their subtree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core.i18n import t
from bot.core.parsing import ParseError, looks_like_number, parse_duration, parse_int
from bot.core.qr import qr_png
from bot.core.timefmt import local
from bot.services import onboarding
from bot.services.authz import NotAllowed, Role
from bot.services.members import role_label
from bot.services.onboarding import InvalidInvitation, UnknownUnit
from handlers.common import registered_member, reply, reply_key

MIN_TTL = timedelta(hours=1)  # a link must live long enough to be passed on and opened
MAX_TTL = timedelta(days=90)  # longer is a typo; a standing link is a risk, not a convenience


@dataclass(frozen=True)
class InviteRequest:
    unit_code: str | None = None
    role: Role = Role.OFFICER
    uses: int = 1
    ttl: timedelta | None = None


class BadInviteArgs(ValueError):
    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params: dict[str, object] = params


def parse_invite_args(args: list[str]) -> InviteRequest:
    """``/invite [UNIT] [role] [uses] [validity]`` in any order; roles and numbers are known."""
    unit, role, uses, ttl = None, Role.OFFICER, 1, None
    roles = {r.value: r for r in Role}
    for arg in args:
        word = arg.strip()
        if word.lower() in roles:
            role = roles[word.lower()]
        elif looks_like_number(word):
            try:
                uses = parse_int(word, low=1, high=onboarding.MAX_USES)
            except ParseError:
                raise BadInviteArgs(
                    "input.bad_uses", value=word[:20], max=onboarding.MAX_USES
                ) from None
        elif looks_like_number(word[:-1]) and word[-1:].lower() in "smhdw":
            try:
                ttl = parse_duration(word, low=MIN_TTL, high=MAX_TTL, bare_seconds=False)
            except ParseError:
                raise BadInviteArgs("input.bad_ttl", value=word[:20], days=MAX_TTL.days) from None
        elif unit is None:
            unit = word
        else:
            raise BadInviteArgs("invite.usage")
    return InviteRequest(unit, role, uses, ttl)


async def invite(update: Update, context: FieldbotContext) -> None:
    member = await registered_member(update, context)
    if member is None:
        return
    lang = member.language
    try:
        request = parse_invite_args(context.args or [])
    except BadInviteArgs as bad:
        await reply(update, t(lang, bad.key, **bad.params))
        return
    runtime = context.runtime
    try:
        async with runtime.db.session() as session:
            created = await onboarding.create_invitation(
                session,
                runtime.clock,
                member.actor,
                request.unit_code or member.unit_code,
                request.role,
                uses=request.uses,
                ttl=request.ttl or runtime.config.onboarding.invite_ttl,
            )
    except NotAllowed as refusal:
        await reply_key(update, lang, refusal.reason)
        return
    except UnknownUnit as unknown:
        await reply_key(update, lang, "invite.unknown_unit", code=unknown.code)
        return
    except InvalidInvitation as invalid:
        await reply_key(update, lang, invalid.key)
        return
    link = onboarding.deep_link(runtime.bot_username, created.code)
    caption = t(
        lang,
        "invite.created",
        unit=created.unit_name,
        code=created.unit_code,
        role=role_label(lang, created.role),
        link=link,
        uses=created.max_uses,
        expires=local(created.expires_at, runtime.config.tz),
        auto=t(lang, "invite.auto_note") if created.auto_approve else "",
    )
    message = update.effective_message
    if message is not None:
        await message.reply_photo(qr_png(link), caption=caption, do_quote=False)


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("invite", invite))
