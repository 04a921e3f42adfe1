"""One-tap confirmation of directives, and the coordinator's status views."""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t
from bot.core.timefmt import local, until
from bot.services import directive_views, directives, drafts
from bot.services.authz import NotAllowed
from bot.services.confirmations import Tap
from bot.services.directive_views import DirectiveLine, Status
from bot.services.directives import Confirmed, DirectiveError
from bot.services.notify import Button
from bot.services.quiet import QuietHours
from handlers.common import (
    keyboard,
    language,
    pressed,
    registered_member,
    reply,
    reply_key,
    split_text,
)
from handlers.compose import Step

MAX_PARENTS_SHOWN = 40


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


def list_text(lang: str, lines: list[DirectiveLine], context: FieldbotContext) -> str:
    if not lines:
        return t(lang, "directive.list_empty")
    tz = context.runtime.config.tz
    rows = [t(lang, "directive.list_header")]
    for line in lines:
        rows.append(
            t(
                lang,
                "directive.list_line",
                id=line.id,
                confirmed=line.confirmed,
                targets=line.targets,
                text=line.excerpt,
                when=local(line.ack_by, tz),
                urgent="🔴 " if line.urgent else "",
            )
            + _how_far(lang, line.ack_by, line.confirmed < line.targets, context)
        )
    return "\n".join(rows)


def _how_far(lang: str, ack_by: datetime, pending: bool, context: FieldbotContext) -> str:
    """`` (còn 2 giờ)`` / `` (quá hạn 1 ngày)`` after the deadline while some unit has not
    confirmed (``timefmt.until``, as every view and notice); nothing once all have."""
    if not pending:
        return ""
    return t(lang, "span.suffix", left=until(lang, ack_by, context.runtime.clock.now()))


def status_text(lang: str, status: Status, context: FieldbotContext) -> str:
    tz = context.runtime.config.tz
    rows = [
        t(
            lang,
            "directive.status_header",
            id=status.id,
            version=status.version,
            when=local(status.ack_by, tz),
        )
        + _how_far(lang, status.ack_by, status.confirmed < status.targets, context),
        t(
            lang,
            "directive.status_counts",
            confirmed=status.confirmed,
            targets=status.targets,
            late=status.late,
        ),
    ]
    if status.pending_by_parent:
        rows.append(t(lang, "directive.status_pending"))
        for parent, units in list(status.pending_by_parent.items())[:MAX_PARENTS_SHOWN]:
            rows.append(f"• {parent}: {', '.join(units)}")
        hidden = len(status.pending_by_parent) - MAX_PARENTS_SHOWN
        if hidden > 0:
            rows.append(t(lang, "compose.and_more", count=hidden))
    if status.unreachable:
        rows.append(t(lang, "directive.status_unreachable", names=", ".join(status.unreachable)))
    return "\n".join(rows)


def status_buttons(lang: str, directive_id: int) -> list[list[Button]]:
    def action(verb: str) -> str:
        return callbacks.encode(callbacks.DirectiveAction(directive_id, verb))

    return [
        [
            Button(t(lang, "directive.remind_button"), action("remind")),
            Button(t(lang, "directive.amend_button"), action("amend")),
            Button(t(lang, "directive.refresh_button"), action("view")),
        ]
    ]


async def list_directives(update: Update, context: FieldbotContext) -> None:
    member = await registered_member(update, context)
    if member is None:
        return
    lang = member.language
    try:
        async with context.runtime.db.session() as session:
            lines = await directive_views.list_directives(session, member.actor)
    except NotAllowed as refusal:
        await reply_key(update, lang, refusal.reason)
        return
    buttons = [
        [
            Button(f"#{line.id}", callbacks.encode(callbacks.DirectiveAction(line.id, "view")))
            for line in lines[i : i + 5]
        ]
        for i in range(0, len(lines), 5)
    ]
    await reply(update, list_text(lang, lines, context), buttons)


async def directive_action(update: Update, context: FieldbotContext) -> None:
    found = await pressed(update, context, callbacks.DirectiveAction)
    if found is None:
        return
    query, payload, member = found
    lang, runtime = member.language, context.runtime
    try:
        async with runtime.db.session() as session:
            if payload.verb == "remind":
                count = await directives.remind_pending(
                    session,
                    runtime.clock,
                    member.actor,
                    payload.directive_id,
                    runtime.config.tz,
                    QuietHours.of(runtime.config),
                )
            elif payload.verb == "amend":
                await directive_views.status(session, member.actor, payload.directive_id)
                await drafts.save(
                    session,
                    runtime.clock,
                    member.id,
                    "amend",
                    Step.TEXT,
                    {"directive_id": payload.directive_id},
                )
            status = await directive_views.status(session, member.actor, payload.directive_id)
    except NotAllowed as refusal:
        await query.answer(t(lang, refusal.reason), show_alert=True)
        return
    except DirectiveError as error:
        await query.answer(t(lang, error.key, **error.params), show_alert=True)
        return
    if payload.verb == "remind":
        runtime.wake_sender()
        await query.answer(t(lang, "directive.reminded", count=count))
    elif payload.verb == "amend":
        await query.answer()
        await reply_key(update, lang, "compose.ask_amend", id=payload.directive_id)
        return
    else:
        await query.answer()
    text = split_text(status_text(lang, status, context))[0]
    if query.message is not None and getattr(query.message, "text", None) != text:
        await query.edit_message_text(text, reply_markup=keyboard(status_buttons(lang, status.id)))


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("directives", list_directives))
    app.add_handler(CallbackQueryHandler(confirm_tap, pattern=r"^dc:"))
    app.add_handler(CallbackQueryHandler(directive_action, pattern=r"^d[vra]:"))
