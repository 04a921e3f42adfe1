"""Roll-ups on the phone: /status, a task's or a directive's view, /directives — one page of a
phone screen per level, numbered buttons to go down, ⬆️ to go back up, ⬅️ ➡️ between pages.

A page is always re-read and re-authorised from the database when a button is pressed: a
forged or stale button shows nothing outside the presser's subtree.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.callbacks import RollupView
from bot.core.i18n import t
from bot.core.timefmt import local, until
from bot.services import deadlines, directive_views, directives, drafts
from bot.services.authz import NotAllowed
from bot.services.directive_text import urgency_mark
from bot.services.errors import ServiceError
from bot.services.members import MemberView, Role
from bot.services.notify import Button
from bot.services.quiet import QuietHours
from bot.services.rollups import (
    ALL,
    DIRECTIVE,
    PLAN,
    TASK,
    Rollups,
)
from handlers import amendments
from handlers.common import explain, keyboard, pressed, registered_member, reply
from handlers.compose import Step
from handlers.deadlines import move_button
from handlers.rollup_text import LISTED, ROW, named, page_buttons, page_text


async def show(
    context: FieldbotContext, member: MemberView, view: RollupView
) -> tuple[str, list[list[Button]]]:
    """The page ``view`` asks for, as the member may see it; raises the refusal otherwise."""
    lang, runtime = member.language, context.runtime
    now = runtime.clock.now()
    async with runtime.db.session() as session:
        page = await Rollups(session, member.actor, now).page(
            view.kind, view.subject_id, view.unit_id or None, view.page
        )
        notes: list[str] = []
        movable = False
        if page.task is not None:
            moves = await deadlines.history(session, member.actor, page.task)
            if moves:
                tz = runtime.config.tz
                old, at = local(moves[-1].old, tz), local(moves[-1].at, tz)
                notes.append(t(lang, "deadline.was_line", old=old, at=at))
            movable = page.page == 0 and await deadlines.can_move(session, member.actor, page.task)
    extra: list[list[Button]] = []
    if page.task is not None and page.page == 0:
        task = page.task
        if page.members is not None and page.total.duties:
            data = callbacks.UnitAction(task.id, page.at.id, "history")
            extra.append([Button(t(lang, "rollup.history_button"), callbacks.encode(data))])
        if page.can_change:
            close = callbacks.encode(callbacks.TaskAction(task.id, "close"))
            extra.append([Button(t(lang, "view.close_button"), close)])
        if movable:
            extra.append([move_button(lang, task.id)])
    elif page.directive is not None and page.can_change:
        extra = [directive_buttons(lang, page.directive.id)]
    return page_text(lang, page, now, context, notes), page_buttons(lang, page, extra)


async def reply_page(
    update: Update, context: FieldbotContext, member: MemberView, view: RollupView
) -> None:
    try:
        text, buttons = await show(context, member, view)
    except (ServiceError, NotAllowed) as error:
        await reply(update, explain(member.language, error))
        return
    await reply(update, text, buttons)


async def edit_page(
    update: Update,
    context: FieldbotContext,
    member: MemberView,
    view: RollupView,
    note: str | None = None,
) -> None:
    """Replace the pressed message with the page (or say why not, changing nothing)."""
    query = update.callback_query
    assert query is not None  # noqa: S101 - only for buttons
    try:
        text, buttons = await show(context, member, view)
    except (ServiceError, NotAllowed) as error:
        await query.answer(explain(member.language, error)[:200], show_alert=True)
        return
    await query.answer(note)
    message = query.message
    if message is not None and getattr(message, "text", None) != text:
        await query.edit_message_text(text, reply_markup=keyboard(buttons))


async def status_command(update: Update, context: FieldbotContext) -> None:
    """``/status`` — the whole picture of open tasks at the member's unit, or ``/status CODE``."""
    member = await registered_member(update, context)
    if member is None:
        return
    args = list(context.args or [])
    if len(args) > 1:
        await reply(update, t(member.language, "rollup.status_usage"))
        return
    unit_id = _own(member)
    if args:
        runtime = context.runtime
        try:
            async with runtime.db.session() as session:
                unit_id = await Rollups(session, member.actor, runtime.clock.now()).unit_id(args[0])
        except ServiceError as error:
            await reply(update, explain(member.language, error))
            return
    await reply_page(update, context, member, RollupView(ALL, 0, unit_id, 0))


def _own(member: MemberView) -> int:
    return member.actor.unit_id or 0


async def rollup_button(update: Update, context: FieldbotContext) -> None:
    found = await pressed(update, context, RollupView)
    if found is None:
        return
    _, view, member = found
    await edit_page(update, context, member, view)


def directive_buttons(lang: str, directive_id: int) -> list[Button]:
    """🔔 remind the silent units, ✏️ amend: on the directive's page, for those who may."""

    def action(verb: str) -> str:
        return callbacks.encode(callbacks.DirectiveAction(directive_id, verb))

    return [
        Button(t(lang, "directive.remind_button"), action("remind")),
        Button(t(lang, "directive.amend_button"), action("amend")),
    ]


async def directive_action(update: Update, context: FieldbotContext) -> None:
    """A directive's page: its view ("#N", 🔄), 🔔 remind the units still silent, ✏️ amend."""
    found = await pressed(update, context, callbacks.DirectiveAction)
    if found is None:
        return
    query, payload, member = found
    lang, runtime = member.language, context.runtime
    view = RollupView(DIRECTIVE, payload.directive_id, _own(member))
    if payload.verb == "view":
        await edit_page(update, context, member, view)
        return
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
            else:
                await directive_views.status(session, member.actor, payload.directive_id)
                data = {"directive_id": payload.directive_id}
                await drafts.save(session, runtime.clock, member.id, "amend", Step.TEXT, data)
    except (ServiceError, NotAllowed) as error:
        await query.answer(explain(lang, error)[:200], show_alert=True)
        return
    if payload.verb == "amend":
        await query.answer()
        await amendments.ask(update, context, member, payload.directive_id)
        return
    runtime.wake_sender()
    await edit_page(update, context, member, view, note=t(lang, "directive.reminded", count=count))


async def list_directives(update: Update, context: FieldbotContext) -> None:
    """``/directives``: for an officer, what their unit has not confirmed (each with ✅); for
    a coordinator or observer, the latest directives reaching their subtree, X/Y of it."""
    member = await registered_member(update, context)
    if member is None:
        return
    lang, runtime = member.language, context.runtime
    tz = runtime.config.tz
    now = runtime.clock.now()
    if member.role is Role.OFFICER:
        async with runtime.db.session() as session:
            pending = await Rollups(session, member.actor, now).owed_by_my_unit()
        if not pending:
            await reply(update, t(lang, "rollup.officer_none", unit=member.unit_name))
            return
        rows = [t(lang, "rollup.officer_header", unit=member.unit_name, count=len(pending))]
        buttons = []
        for directive in pending[:LISTED]:
            rows.append(
                t(
                    lang,
                    "rollup.officer_line",
                    id=directive.id,
                    mark=urgency_mark(lang, directive.urgency),
                    text=named(directive),
                    deadline=local(directive.ack_by, tz),
                )
            )
            data = callbacks.encode(callbacks.DirectiveConfirm(directive.id, directive.version))
            buttons.append(Button(t(lang, "remind.confirm_button", id=directive.id), data))
        await reply(
            update, "\n".join(rows), [buttons[i : i + ROW] for i in range(0, len(buttons), ROW)]
        )
        return
    try:
        async with runtime.db.session() as session:
            found = await Rollups(session, member.actor, now).reaching(LISTED)
    except NotAllowed as refusal:
        await reply(update, explain(lang, refusal))
        return
    if not found:
        await reply(update, t(lang, "rollup.list_empty", unit=member.unit_name))
        return
    rows = [t(lang, "rollup.list_header", unit=member.unit_name)]
    for directive, targets, confirmed in found:
        left = ""
        if confirmed < targets:
            left = t(lang, "span.suffix", left=until(lang, directive.ack_by, now))
        rows.append(
            t(
                lang,
                "rollup.list_line",
                id=directive.id,
                confirmed=confirmed,
                targets=targets,
                text=named(directive),
                when=local(directive.ack_by, tz),
                urgent=urgency_mark(lang, directive.urgency),
            )
            + left
        )
    opens = [
        Button(f"#{d.id}", callbacks.encode(callbacks.DirectiveAction(d.id, "view")))
        for d, _, _ in found
    ]
    await reply(update, "\n".join(rows), [opens[i : i + ROW] for i in range(0, len(opens), ROW)])


def task_view(member: MemberView, task_id: int, unit_id: int | None = None) -> RollupView:
    return RollupView(TASK, task_id, unit_id or _own(member))


def plan_view(member: MemberView, plan_id: int) -> RollupView:
    return RollupView(PLAN, plan_id, _own(member))


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("status", status_command))
    app.add_handler(CommandHandler("directives", list_directives))
    app.add_handler(CallbackQueryHandler(rollup_button, pattern=r"^ru:"))
    app.add_handler(CallbackQueryHandler(directive_action, pattern=r"^d[vra]:"))
