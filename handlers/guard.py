"""The first look at every update, before any feature sees it (handler group -2).

- A member's chat is their private chat with the bot. Whatever comes from a group, supergroup
  or channel goes no further: a command addressed to us gets one short answer pointing to the
  private chat, a button a short toast, anything else nothing. So no group is ever stored as
  a member's chat, and no group message is read into a form, a report or a note.
- Edited messages never rewrite history: an edit is not read as a command, a form answer or
  a report. The sender is told once, per edit, to send a new message.
- Telegram's language for the user is recorded on the context, so a guest is answered in it
  when it is one of ours.

One mechanism here, instead of checks in each handler. PTB's CommandHandler and
MessageHandler would otherwise take edited messages and channel posts like new messages.
"""

from __future__ import annotations

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core.config import LANGUAGES
from bot.core.i18n import t
from handlers.common import current_member, language, reply

GROUP = -2  # before every other handler (long texts -1, features 0)


def telegram_language(code: str | None) -> str | None:
    """One of our languages from Telegram's IETF tag ("en", "en-US", "vi"), else None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-", 1)[0].lower()
    return base if base in LANGUAGES else None


def command_for_us(message: Message, bot_username: str | None) -> bool:
    """A /command at the start of the message, not addressed to some other bot."""
    text = message.text or message.caption or ""
    entities = message.entities if message.text else message.caption_entities
    for entity in entities:
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            _, _, addressee = text[1 : entity.length].partition("@")
            return not addressee or addressee.lower() == (bot_username or "").lower()
    return False


async def guard(update: Update, context: FieldbotContext) -> None:
    user = update.effective_user
    context.user_language = telegram_language(user.language_code if user else None)
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await _outside_private(update, context)
        raise ApplicationHandlerStop
    if update.edited_message is not None:
        member = await current_member(update, context)
        await reply(update, t(language(member, context), "guard.edited"))
        raise ApplicationHandlerStop


async def _outside_private(update: Update, context: FieldbotContext) -> None:
    """At most one short answer: to a command or a button, never to chatter or edits."""
    lang = language(None, context)
    query = update.callback_query
    if query is not None:
        await query.answer(t(lang, "guard.private_only_toast"))
        return
    message = update.message
    bot = context.runtime.bot_username
    if message is not None and command_for_us(message, bot):
        await reply(update, t(lang, "guard.private_only", bot=bot or ""))


def register(app: FieldbotApp) -> None:
    app.add_handler(TypeHandler(Update, guard), group=GROUP)
