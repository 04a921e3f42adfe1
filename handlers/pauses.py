"""``/pause`` and ``/resume``: a coordinator stops reminders for a unit with a known case."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services import pauses
from bot.services.authz import Action, NotAllowed
from bot.services.errors import ServiceError
from handlers.common import explain, member_allowed, reply, reply_key


async def pause(update: Update, context: FieldbotContext) -> None:
    """``/pause`` lists the pauses in force; ``/pause CODE UNTIL REASON`` makes one."""
    member = await member_allowed(update, context, Action.PAUSE_REMINDERS)
    if member is None:
        return
    runtime, lang = context.runtime, member.language
    args = context.args or []
    if 0 < len(args) < 3:
        await reply_key(update, lang, "pause.reason_needed" if len(args) == 2 else "pause.usage")
        return
    try:
        async with runtime.db.session() as session:
            if args:
                made = await pauses.pause(
                    session,
                    runtime.clock,
                    member.actor,
                    args[0],
                    args[1],
                    " ".join(args[2:]),
                    runtime.config.tz,
                )
            else:
                found = await pauses.active_pauses(session, runtime.clock, member.actor)
    except (ServiceError, NotAllowed) as error:
        await reply(update, explain(lang, error) + "\n\n" + t(lang, "pause.usage"))
        return
    tz = runtime.config.tz
    if args:
        key = "pause.paused_subtree" if made.units > 1 else "pause.paused"
        text = t(
            lang,
            key,
            unit=made.unit_name,
            count=made.units,
            until=local(made.until, tz),
            reason=made.reason,
        )
        if not made.pending:
            text += "\n" + t(lang, "pause.nothing_pending")
        await reply(update, text)
        return
    lines = [t(lang, "pause.list_header") if found else t(lang, "pause.none")]
    lines += [
        t(
            lang,
            "pause.list_line",
            unit=p.unit_name,
            code=p.unit_code,
            until=local(p.until, tz),
            reason=p.reason,
        )
        for p in found
    ]
    await reply(update, "\n".join([*lines, "", t(lang, "pause.usage")]))


async def resume(update: Update, context: FieldbotContext) -> None:
    member = await member_allowed(update, context, Action.PAUSE_REMINDERS)
    if member is None:
        return
    runtime, lang = context.runtime, member.language
    if len(context.args or []) != 1:
        await reply_key(update, lang, "pause.resume_usage")
        return
    try:
        async with runtime.db.session() as session:
            name = await pauses.resume(
                session, runtime.clock, member.actor, (context.args or [""])[0]
            )
    except (ServiceError, NotAllowed) as error:
        await reply(update, explain(lang, error))
        return
    await reply_key(update, lang, "pause.resumed", unit=name)


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("pause", pause))
    app.add_handler(CommandHandler("resume", resume))
