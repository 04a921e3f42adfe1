"""/initiative: submit an initiative or good model with text and photos; coordinators feature it.

The form collects the description and photos (a photo's caption counts as text) until the
member presses "Gửi"; /initiatives lists recent ones in the member's scope.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.services import drafts, initiatives, notes, reports
from bot.services.authz import Action, NotAllowed, authorize
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.services.notify import Button
from bot.services.quiet import QuietHours
from handlers.common import (
    explain,
    member_allowed,
    pressed,
    pressed_in_form,
    registered_member,
    reply,
    reply_key,
)


def _buttons(lang: str) -> list[list[Button]]:
    def choice(send: bool) -> str:
        return callbacks.encode(callbacks.InitiativeSubmit(send))

    return [
        [
            Button(t(lang, "initiative.send_button"), choice(True)),
            Button(t(lang, "compose.cancel"), choice(False)),
        ]
    ]


async def start(update: Update, context: FieldbotContext) -> None:
    member = await member_allowed(update, context, Action.SUBMIT_INITIATIVE)
    if member is None:
        return
    async with context.runtime.db.session() as session:
        data: dict[str, object] = {"text": "", "photos": []}
        await drafts.save(session, context.runtime.clock, member.id, "initiative", 1, data)
    await reply_key(update, member.language, "initiative.ask", max=notes.MAX_SENT)


async def on_input(
    update: Update, context: FieldbotContext, member: MemberView, draft: drafts.DraftView
) -> None:
    """Text joins the description, photos join the album; nothing is sent until "Gửi"."""
    message = update.effective_message
    assert message is not None  # noqa: S101 - a message handler always has one
    lang, data = member.language, dict(draft.data)
    try:
        if message.document is not None:
            raise reports.ReportError("initiative.photos_only")
        if message.photo:
            photo = message.photo[-1]
            reports.check_attachment("photo", photo.file_size, None)
            if len(data["photos"]) >= initiatives.MAX_PHOTOS:
                raise reports.ReportError("report.too_many_files", max=initiatives.MAX_PHOTOS)
            data["photos"] = [*data["photos"], photo.file_id]
        added = (message.text or message.caption or "").strip()
        if added:
            data["text"] = notes.checked_note(f"{data['text']}\n{added}".strip(), notes.MAX_SENT)
    except ServiceError as error:
        await reply(update, explain(lang, error) + "\n" + t(lang, "report.kept"), _buttons(lang))
        return
    async with context.runtime.db.session() as session:
        await drafts.save(session, context.runtime.clock, member.id, "initiative", 1, data)
    await reply_key(
        update,
        lang,
        "initiative.so_far",
        chars=len(data["text"]),
        photos=len(data["photos"]),
        buttons=_buttons(lang),
    )


async def on_choice(update: Update, context: FieldbotContext) -> None:
    """ "Gửi" or "Hủy" under the initiative form."""
    found = await pressed_in_form(
        update, context, callbacks.InitiativeSubmit, frozenset({"initiative"})
    )
    if found is None:
        return
    query, payload, member, draft = found
    lang, runtime = member.language, context.runtime
    if not payload.send:
        async with runtime.db.session() as session:
            await drafts.discard(session, member.id)
        await query.answer()
        await reply_key(update, lang, "compose.cancelled")
        return
    try:
        async with runtime.db.session() as session:
            done = await initiatives.submit(
                session, runtime.clock, member.actor, draft.data["text"], draft.data["photos"]
            )
            await drafts.discard(session, member.id)
    except (ServiceError, NotAllowed) as error:
        await query.answer(explain(lang, error), show_alert=True)
        return
    runtime.wake_sender()
    await query.answer()
    await reply_key(update, lang, "initiative.submitted", id=done.initiative_id, count=done.told)


async def feature(update: Update, context: FieldbotContext) -> None:
    found = await pressed(update, context, callbacks.InitiativeFeature)
    if found is None:
        return
    query, payload, member = found
    lang, runtime = member.language, context.runtime
    try:
        async with runtime.db.session() as session:
            done = await initiatives.feature(
                session,
                runtime.clock,
                member.actor,
                payload.initiative_id,
                QuietHours.of(runtime.config),
            )
    except (ServiceError, NotAllowed) as error:
        await query.answer(explain(lang, error), show_alert=True)
        return
    runtime.wake_sender()
    await query.answer(t(lang, "initiative.featured_short", count=done.members), show_alert=True)


async def list_recent(update: Update, context: FieldbotContext) -> None:
    member = await registered_member(update, context)
    if member is None:
        return
    lang, runtime = member.language, context.runtime
    try:
        async with runtime.db.session() as session:
            lines = await initiatives.recent(session, member.actor)
    except NotAllowed as refusal:
        await reply(update, explain(lang, refusal))
        return
    if not lines:
        await reply_key(update, lang, "initiative.none")
        return
    rows = [t(lang, "initiative.list_header")]
    for line in lines:
        rows.append(
            t(
                lang,
                "initiative.list_line",
                id=line.id,
                unit=line.unit_name,
                text=line.excerpt,
                photos=line.photos,
                at=local(line.at, runtime.config.tz),
                star="⭐ " if line.featured else "",
            )
        )
    can_feature = authorize(member.actor, Action.FEATURE_INITIATIVE, member.unit_path)
    buttons = [
        [
            Button(
                t(lang, "initiative.feature_numbered", id=line.id),
                callbacks.encode(callbacks.InitiativeFeature(line.id)),
            )
        ]
        for line in lines
        if can_feature and not line.featured
    ]
    await reply(update, "\n".join(rows), buttons)


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("initiative", start))
    app.add_handler(CommandHandler("initiatives", list_recent))
    app.add_handler(CallbackQueryHandler(feature, pattern=r"^if:"))
    app.add_handler(CallbackQueryHandler(on_choice, pattern=r"^is:"))
