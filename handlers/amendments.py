"""Amending a directive in chat: the current text offered for copying, then the whole new
text or only the passages to change (``cũ => mới``, one per line)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import MessageEntity, Update

from bot.context import FieldbotContext
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services import directives, drafts
from bot.services.authz import NotAllowed
from bot.services.directives import DirectiveError
from bot.services.members import MemberView
from bot.services.quiet import QuietHours
from handlers.common import explain, reply


def copyable(lead: str, text: str) -> tuple[str, list[MessageEntity]]:
    """``lead``, then ``text`` as a code block: Telegram copies a block in one tap. Offsets
    count UTF-16 code units, as the Bot API does."""
    start = _utf16(lead + "\n")
    return lead + "\n" + text, [MessageEntity(MessageEntity.PRE, start, _utf16(text))]


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def ask(
    update: Update, context: FieldbotContext, member: MemberView, directive_id: int
) -> None:
    """What to send, with the current text to copy from, in one message (the form is open)."""
    lang, runtime = member.language, context.runtime
    try:
        async with runtime.db.session() as session:
            current = await directives.current_text(session, member.actor, directive_id)
    except (NotAllowed, DirectiveError) as error:  # gone or out of reach since the tap
        await reply(update, explain(lang, error))
        return
    lead = t(lang, "compose.ask_amend", id=directive_id) + "\n\n" + t(lang, "urgency.amend_current")
    text, entities = copyable(lead, current)
    message = update.effective_message
    if message is not None:
        await message.reply_text(text, entities=entities, do_quote=False)


async def amend(
    update: Update, context: FieldbotContext, member: MemberView, directive_id: int, typed: str
) -> None:
    """Send the amendment typed; a refusal keeps the form open and the directive unchanged."""
    runtime, lang = context.runtime, member.language
    try:
        async with runtime.db.session() as session:
            sent = await directives.amend_typed(
                session,
                runtime.clock,
                member.actor,
                directive_id,
                typed,
                runtime.config.tz,
                QuietHours.of(runtime.config),
            )
            await drafts.discard(session, member.id)
    except (NotAllowed, DirectiveError) as error:
        await reply(update, explain(lang, error) + "\n" + t(lang, "input.amend_not_sent"))
        return
    runtime.wake_sender()
    await reply(
        update,
        t(
            lang,
            "compose.amended",
            id=sent.directive_id,
            units=sent.unit_count,
            members=sent.member_count,
        )
        + held_line(lang, sent, runtime.config.tz),
    )


def held_line(lang: str, sent: directives.Sent, tz: ZoneInfo) -> str:
    """Tell the sender when quiet hours hold their directive until morning."""
    if sent.held_until is None:
        return ""
    return "\n" + t(lang, "directive.held", when=local(sent.held_until, tz))
