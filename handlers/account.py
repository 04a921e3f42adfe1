"""/help, /me and /lang: what a member can do, who they are, and in which language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.config import LANGUAGES
from bot.core.i18n import t, t_or
from bot.core.timefmt import local
from bot.services import members as member_service
from bot.services.commands import commands_for
from bot.services.members import MemberView, role_label, status_label
from bot.services.notify import Button
from handlers.common import current_member, language, registered_member, reply, reply_key


def help_text(member: MemberView | None, lang: str) -> str:
    role = member.role if member else None
    status = member.status if member else None
    if member is None:
        lines = [t(lang, "help.guest")]
    else:
        lines = [t(lang, "help.member", role=role_label(lang, member.role))]
    for name in commands_for(role, status):
        lines.append(t(lang, "help.line", command=name, description=t(lang, f"commands.{name}")))
    if "invite" in commands_for(role, status):
        lines.append("")
        lines.append(t(lang, "help.invite_usage"))
    return "\n".join(lines)


async def show_help(update: Update, context: FieldbotContext) -> None:
    member = await current_member(update, context)
    lang = language(member, context)
    await reply(update, help_text(member, lang))


async def show_me(update: Update, context: FieldbotContext) -> None:
    member = await registered_member(update, context)
    if member is None:
        return
    lang = member.language
    await reply_key(
        update,
        lang,
        "me.profile",
        name=member.full_name,
        unit=member.unit_name,
        code=member.unit_code,
        level=t_or(lang, f"levels.{member.unit_level}", member.unit_level),
        role=role_label(lang, member.role),
        status=status_label(lang, member.status),
        since=local(member.created_at, context.runtime.config.tz),
    )


def language_buttons(lang: str) -> list[list[Button]]:
    return [
        [
            Button(t(lang, f"lang.{code}"), callbacks.encode(callbacks.LanguageChoice(code)))
            for code in LANGUAGES
        ]
    ]


async def choose_language(update: Update, context: FieldbotContext) -> None:
    member = await registered_member(update, context)
    if member is None:
        return
    lang = member.language
    if context.args:
        wanted = context.args[0].lower()
        if wanted not in LANGUAGES:
            await reply_key(update, lang, "lang.unknown")
            return
        await _switch(update, context, wanted)
        return
    await reply_key(update, lang, "lang.choose", buttons=language_buttons(lang))


async def _switch(update: Update, context: FieldbotContext, wanted: str) -> str | None:
    user = update.effective_user
    if user is None:
        return None
    runtime = context.runtime
    async with runtime.db.session() as session:
        member = await member_service.set_language(session, runtime.clock, user.id, wanted)
    runtime.wake_sender()
    if member is None:
        return None
    if update.callback_query is None:
        await reply_key(update, member.language, "lang.changed")
    return member.language


async def language_pressed(update: Update, context: FieldbotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    payload = callbacks.decode(query.data)
    if not isinstance(payload, callbacks.LanguageChoice):
        await query.answer(t(language(None, context), "errors.stale_button"))
        return
    new_lang = await _switch(update, context, payload.language)
    if new_lang is None:
        await query.answer(t(language(None, context), "errors.not_registered"))
        return
    await query.answer(t(new_lang, "lang.changed"))
    if query.message is not None:
        await query.edit_message_text(t(new_lang, "lang.changed"))


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("help", show_help))
    app.add_handler(CommandHandler("me", show_me))
    app.add_handler(CommandHandler("lang", choose_language))
    app.add_handler(CallbackQueryHandler(language_pressed, pattern=r"^lang:"))
