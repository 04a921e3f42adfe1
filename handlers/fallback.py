"""Anything no other handler took: unknown commands, stray text, stale or forged buttons."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.context import FieldbotApp, FieldbotContext
from bot.core.i18n import t
from handlers.common import current_member, language, reply_key

log = logging.getLogger(__name__)


async def unknown_command(update: Update, context: FieldbotContext) -> None:
    member = await current_member(update, context)
    await reply_key(update, language(member, context), "errors.unknown_command")


async def not_understood(update: Update, context: FieldbotContext) -> None:
    member = await current_member(update, context)
    await reply_key(update, language(member, context), "errors.not_understood")


async def stale_button(update: Update, context: FieldbotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    member = await current_member(update, context)
    await query.answer(t(language(member, context), "errors.stale_button"))


async def on_error(update: object, context: FieldbotContext) -> None:
    """Log the failure and tell the member plainly, in their language, whether it was saved.

    Sessions commit at the domain call's boundary, so a commit that wrote something during
    this update means the action is kept and only the answer failed; without one, nothing of it
    was stored (the failing session rolled back).
    """
    log.error("handler failed", exc_info=context.error)
    if not isinstance(update, Update):
        return
    saved = context.runtime.db.saved_in_this_task()
    key = "errors.internal_saved" if saved else "errors.internal_not_saved"
    try:
        member = await current_member(update, context)
    except Exception:  # the database may be what failed: answer anyway
        log.warning("could not look up the member for an error reply", exc_info=True)
        member = None
    lang = language(member, context)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(t(lang, key), show_alert=True)
        elif update.effective_message is not None:
            await reply_key(update, lang, key)
    except Exception:  # the error reply itself failed (network); the log has the cause
        log.warning("could not tell the member about an error", exc_info=True)


def register(app: FieldbotApp) -> None:
    """Register last: within a group the first matching handler wins, so these catch the rest."""
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(filters.ALL & ~filters.COMMAND, not_understood))
    app.add_handler(CallbackQueryHandler(stale_button))
    app.add_error_handler(on_error)
