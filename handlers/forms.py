"""Text and files a member sends outside a command: the next answer of their open form.

Each form (a draft in the database) belongs to one feature; this module hands the message to
it, or to the fallback when no form is open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.context import FieldbotApp, FieldbotContext
from bot.services import drafts
from bot.services.members import MemberView
from handlers import (
    blockers,
    compose,
    deadlines,
    fallback,
    initiatives,
    task_form,
    task_views,
    tasks,
)
from handlers.common import current_member

FormInput = Callable[[Update, FieldbotContext, MemberView, drafts.DraftView], Awaitable[None]]

FORMS: dict[str, FormInput] = {
    "directive": compose.on_input,
    "amend": compose.on_input,
    "plan": task_form.on_input,
    "task": task_form.on_input,
    "report": tasks.on_input,
    "return": task_views.on_input,
    "initiative": initiatives.on_input,
    deadlines.FORM: deadlines.on_input,
    blockers.FORM: blockers.on_input,
}


async def on_input(update: Update, context: FieldbotContext) -> None:
    member = await current_member(update, context)
    draft = None
    if member is not None:
        async with context.runtime.db.session() as session:
            draft = await drafts.current(session, member.id)
    form = FORMS.get(draft.kind) if draft is not None else None
    if member is None or draft is None or form is None:
        await fallback.not_understood(update, context)
        return
    await form(update, context, member, draft)


def register(app: FieldbotApp) -> None:
    app.add_handler(
        MessageHandler(
            (filters.TEXT & ~filters.COMMAND) | filters.Document.ALL | filters.PHOTO, on_input
        )
    )
