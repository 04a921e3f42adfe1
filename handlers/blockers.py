"""A coordinator's buttons on a blocker: ✋ Đã nắm (take it on), ✅ Đã gỡ vướng mắc (resolve
it; what was done is the next message)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t
from bot.services import blockers, drafts
from bot.services.authz import NotAllowed
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.services.quiet import QuietHours
from handlers.common import explain, pressed, reply

FORM = "blocker"


async def on_button(update: Update, context: FieldbotContext) -> None:
    found = await pressed(update, context, callbacks.BlockerAction)
    if found is None:
        return
    query, payload, member = found
    runtime, lang = context.runtime, member.language
    try:
        async with runtime.db.session() as session:
            if payload.verb == "take":
                done = await blockers.take(
                    session,
                    runtime.clock,
                    member.actor,
                    payload.task_id,
                    payload.unit_id,
                    runtime.config.tz,
                    QuietHours.of(runtime.config),
                )
            else:
                unit = await blockers.may_resolve(
                    session, member.actor, payload.task_id, payload.unit_id
                )
                data = {"task_id": payload.task_id, "unit_id": payload.unit_id}
                await drafts.save(session, runtime.clock, member.id, FORM, 1, data)
    except (ServiceError, NotAllowed) as error:
        await query.answer(explain(lang, error), show_alert=True)
        return
    if payload.verb == "take":
        runtime.wake_sender()
        await query.answer(t(lang, "alerts.taken", unit=done.unit_name)[:200])
        key = "alerts.taken_reply" if done.told else "alerts.taken_reply_nobody"
        button = blockers.resolve_button(lang, done.task_id, done.unit_id)
        text = t(lang, key, unit=done.unit_name, id=done.task_id, count=done.told)
        await reply(update, text, [[button]])
        return
    await query.answer()
    await reply(update, t(lang, "alerts.ask_resolution", unit=unit, id=payload.task_id))


async def on_input(
    update: Update, context: FieldbotContext, member: MemberView, draft: drafts.DraftView
) -> None:
    """What was done to clear the blocker: it is resolved, the unit hears it."""
    message = update.effective_message
    assert message is not None  # noqa: S101 - a message handler always has one
    runtime, lang = context.runtime, member.language
    note = message.text or message.caption or ""
    try:
        async with runtime.db.session() as session:
            done = await blockers.resolve(
                session,
                runtime.clock,
                member.actor,
                int(draft.data["task_id"]),
                int(draft.data["unit_id"]),
                note,
                runtime.config.tz,
                QuietHours.of(runtime.config),
            )
            await drafts.discard(session, member.id)
    except (ServiceError, NotAllowed) as error:
        if isinstance(error, ServiceError) and error.key != "alerts.resolution_needed":
            async with runtime.db.session() as session:
                await drafts.discard(session, member.id)  # nothing left to resolve
        await reply(update, explain(lang, error))
        return
    runtime.wake_sender()
    key = "alerts.resolved" if done.told else "alerts.resolved_nobody"
    await reply(update, t(lang, key, unit=done.unit_name, id=done.task_id, count=done.told))


def register(app: FieldbotApp) -> None:
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^b[tx]:"))
    # The resolution note is the member's next message, read by handlers/forms.py.
