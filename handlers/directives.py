"""One-tap confirmation of directives: ✅ on a copy, decided with the other taps of the
moment (bot/tapqueue.py). A directive's status is its roll-up (handlers/rollups.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services.confirmations import Tap
from bot.services.directives import Confirmed
from handlers.common import language


async def confirm_tap(update: Update, context: FieldbotContext) -> None:
    """ "✅ Đã nhận": decided with the other taps of the moment, answered at once."""
    query = update.callback_query
    assert query is not None  # noqa: S101 - registered for callback queries only
    payload = callbacks.decode(query.data)
    runtime = context.runtime
    lang = language(None, context)
    if not isinstance(payload, callbacks.DirectiveConfirm) or runtime.taps is None:
        await query.answer(t(lang, "errors.stale_button"))
        return
    outcome = await runtime.taps.submit(
        Tap(query.from_user.id, payload.directive_id, payload.version)
    )
    lang = outcome.language or lang
    result = outcome.result
    if result is None:
        await query.answer(t(lang, outcome.refusal or "errors.stale_button"), show_alert=True)
        return
    runtime.wake_sender()
    match result.outcome:
        case Confirmed.CONFIRMED:
            key = "directive.confirmed_late" if result.late else "directive.confirmed"
            await query.answer(t(lang, key, unit=outcome.unit_name))
        case Confirmed.ALREADY:
            when = local(result.at, runtime.config.tz) if result.at else "—"
            await query.answer(t(lang, "directive.already_confirmed", by=result.by or "—", at=when))
        case Confirmed.STALE:
            await query.answer(t(lang, "directive.stale_version"), show_alert=True)
        case Confirmed.NOT_TARGET | Confirmed.NOT_FOUND:
            await query.answer(t(lang, "errors.stale_button"))


def register(app: FieldbotApp) -> None:
    app.add_handler(CallbackQueryHandler(confirm_tap, pattern=r"^dc:"))
