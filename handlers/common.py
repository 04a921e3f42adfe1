"""Helpers shared by handler modules: who is talking, in which language, and replying."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType

from bot.context import FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t
from bot.services import drafts
from bot.services.authz import Action, NotAllowed, authorize
from bot.services.errors import ServiceError
from bot.services.members import MemberView, note_seen
from bot.services.notify import Button

MAX_TEXT = 4096


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.callback_data) for b in row]
            for row in rows
        ]
    )


async def current_member(update: Update, context: FieldbotContext) -> MemberView | None:
    """The registered member behind this update, or None for a guest."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    runtime = context.runtime
    async with runtime.db.session() as session:
        return await note_seen(
            session, runtime.clock, user.id, chat.id, private=chat.type == ChatType.PRIVATE
        )


async def registered_member(update: Update, context: FieldbotContext) -> MemberView | None:
    """The member behind this update; a guest is told how to register and gets None."""
    member = await current_member(update, context)
    if member is None:
        await reply_key(update, language(None, context), "errors.not_registered")
    return member


P = TypeVar("P")


async def pressed(
    update: Update, context: FieldbotContext, kind: type[P]
) -> tuple[CallbackQuery, P, MemberView] | None:
    """The button a registered member pressed, decoded as ``kind``.

    A forged, stale or foreign payload, or a press by a guest, is answered here and gives None.
    """
    query = update.callback_query
    assert query is not None  # noqa: S101 - only called for callback queries
    payload = callbacks.decode(query.data)
    member = await current_member(update, context)
    if not isinstance(payload, kind) or member is None:
        await query.answer(t(language(member, context), "errors.stale_button"))
        return None
    return query, payload, member


async def pressed_in_form(
    update: Update, context: FieldbotContext, kind: type[P], forms: frozenset[str]
) -> tuple[CallbackQuery, P, MemberView, drafts.DraftView] | None:
    """Like ``pressed``, for a button of a form that must still be open (one of ``forms``)."""
    found = await pressed(update, context, kind)
    if found is None:
        return None
    query, payload, member = found
    async with context.runtime.db.session() as session:
        draft = await drafts.current(session, member.id)
    if draft is None or draft.kind not in forms:
        await query.answer(t(member.language, "errors.stale_button"))
        return None
    return query, payload, member, draft


async def member_allowed(
    update: Update, context: FieldbotContext, action: Action
) -> MemberView | None:
    """The registered member, if they may do ``action`` at their own unit; else told why."""
    member = await registered_member(update, context)
    if member is None:
        return None
    decision = authorize(member.actor, action, member.unit_path)
    if not decision:
        await reply_key(update, member.language, decision.reason)
        return None
    return member


def language(member: MemberView | None, context: FieldbotContext) -> str:
    """The member's chosen language; for a guest, Telegram's language for them if it is one of
    ours (recorded by the guard), else the configured default."""
    if member is not None:
        return member.language
    return context.user_language or context.runtime.config.default_language


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a long text at line breaks (between words, if a line is too long) into sendable
    parts."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:  # a line longer than a message: cut between words
            if current:
                parts.append(current)
                current = ""
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit  # one word longer than a message: cut in it
            parts.append(line[:cut])
            line = line[cut:].lstrip(" ")
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current.strip():
        parts.append(current)
    return parts or [text[:limit]]


async def reply(
    update: Update, text: str, buttons: Sequence[Sequence[Button]] | None = None
) -> Message | None:
    """Answer the member's own message directly (not a notification, so not the outbox)."""
    message = update.effective_message
    if message is None:
        return None
    parts = split_text(text)
    sent = None
    for index, part in enumerate(parts):
        markup = keyboard(buttons) if buttons and index == len(parts) - 1 else None
        sent = await message.reply_text(part, reply_markup=markup, do_quote=False)
    return sent


async def reply_key(
    update: Update,
    lang: str,
    key: str,
    *,
    buttons: Sequence[Sequence[Button]] | None = None,
    **params: object,
) -> Message | None:
    return await reply(update, t(lang, key, **params), buttons)


def explain(lang: str, error: ServiceError | NotAllowed) -> str:
    """A refusal from a service, in the member's language."""
    if isinstance(error, NotAllowed):
        return t(lang, error.reason)
    return t(lang, error.key, **error.params)


async def answer_or_reply(update: Update, text: str, *, alert: bool = True) -> None:
    """Tell the member: as a pop-up if they tapped a button, else as a message."""
    query = update.callback_query
    if query is not None:
        await query.answer(text[:200], show_alert=alert)
    else:
        await reply(update, text)


def nobody_line(lang: str, data: Mapping[str, Any]) -> str:
    """Coverage in a preview: how many target units nobody will receive it in, and some."""
    count = int(data.get("nobody") or 0)
    if not count:
        return ""
    names = ", ".join(str(n) for n in data.get("nobody_names") or [])
    more = t(lang, "rollup.nobody_more", count=count - 3) if count > 3 else ""
    return "\n" + t(lang, "rollup.nobody", count=count, names=names, more=more)
