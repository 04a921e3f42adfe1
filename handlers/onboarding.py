"""/start with an invitation code, and the coordinator's Approve / Reject buttons."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services import onboarding
from bot.services.authz import NotAllowed
from bot.services.members import role_label, status_label
from bot.services.onboarding import Decided, Redeemed, TelegramIdentity
from handlers.common import current_member, language, reply_key

CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def start(update: Update, context: FieldbotContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    runtime = context.runtime
    member = await current_member(update, context)
    lang = language(member, context)
    if not context.args:
        if member is None:
            await reply_key(update, lang, "start.no_code")
        else:
            await reply_key(
                update,
                lang,
                "start.welcome_back",
                name=member.full_name,
                unit=member.unit_name,
                role=role_label(lang, member.role),
                status=status_label(lang, member.status),
            )
        return
    code = context.args[0]
    if not CODE.match(code):
        await reply_key(update, lang, "start.bad_code_format")
        return
    who = TelegramIdentity(user.id, chat.id, user.full_name, user.username)
    async with runtime.db.session() as session:
        result = await onboarding.redeem_invitation(
            session,
            runtime.clock,
            runtime.config.onboarding,
            who,
            code,
            lang,  # a newcomer starts in Telegram's language for them, when it is one of ours
        )
    runtime.wake_sender()
    if result.member is not None:
        lang = result.member.language
    match result.outcome:
        case Redeemed.TOO_MANY_TRIES:
            assert result.retry_at is not None  # noqa: S101 - set with this outcome
            await reply_key(
                update, lang, "start.too_many_tries", time=local(result.retry_at, runtime.config.tz)
            )
        case Redeemed.BUSY:
            assert result.retry_at is not None  # noqa: S101 - set with this outcome
            await reply_key(
                update, lang, "start.busy", time=local(result.retry_at, runtime.config.tz)
            )
        case Redeemed.INVALID | Redeemed.EXPIRED | Redeemed.USED_UP:
            await reply_key(update, lang, f"start.{result.outcome}")
        case Redeemed.ALREADY_MEMBER | Redeemed.ACTIVE | Redeemed.PENDING:
            assert result.member is not None  # noqa: S101 - set with these outcomes
            key = f"start.{result.outcome}"
            if result.outcome is Redeemed.PENDING and result.approvers == 0:
                key = "start.pending_no_approver"
            await reply_key(
                update,
                lang,
                key,
                name=result.member.full_name,
                unit=result.member.unit_name,
                role=role_label(lang, result.member.role),
            )


async def decide(update: Update, context: FieldbotContext) -> None:
    """A coordinator pressed Approve or Reject; the server checks everything again."""
    query = update.callback_query
    if query is None:
        return
    payload = callbacks.decode(query.data)
    actor = await current_member(update, context)
    lang = language(actor, context)
    if not isinstance(payload, callbacks.MemberDecision) or actor is None:
        await query.answer(t(lang, "errors.stale_button"))
        return
    runtime = context.runtime
    try:
        async with runtime.db.session() as session:
            result = await onboarding.decide_member(
                session, runtime.clock, actor.actor, payload.member_id, payload.approve
            )
    except NotAllowed as refusal:
        await query.answer(t(lang, refusal.reason), show_alert=True)
        return
    runtime.wake_sender()
    match result.outcome:
        case Decided.NOT_FOUND:
            await query.answer(t(lang, "errors.stale_button"))
        case Decided.ALREADY_DECIDED:
            await query.answer(t(lang, "approval.already_decided"), show_alert=True)
        case Decided.DONE:
            key = "approval.answer_approved" if result.approved else "approval.answer_rejected"
            await query.answer(t(lang, key))


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(decide, pattern=r"^md:"))
