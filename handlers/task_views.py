"""``/task N``: how the units under the coordinator stand on a task (the roll-up by level, in
handlers/rollups.py), one unit's history; return a report, close.

Observers (an inspection team) get the same views without the buttons that change things;
the services refuse those actions to them anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t
from bot.core.parsing import ParseError, parse_id
from bot.core.timefmt import local
from bot.services import deadlines, drafts, reports, task_views
from bot.services.authz import NotAllowed
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.services.notify import Button
from bot.services.quiet import QuietHours
from bot.services.reminder_text import cut_words
from bot.services.reports import ReportKind
from handlers import rollups
from handlers.common import explain, pressed, reply
from handlers.tasks import state_label

EARLIER_NOTE = 500  # characters of an earlier report's note in a unit's history


async def show_task(
    update: Update, context: FieldbotContext, member: MemberView, args: list[str]
) -> None:
    """``/task N``: its roll-up at the member's unit; ``/task N CODE``: the roll-up at that
    unit of their subtree (a province, a district), or a unit's own history if it has the task."""
    lang, runtime = member.language, context.runtime
    try:
        task_id = parse_id(args[0])
    except ParseError:
        await reply(update, t(lang, "input.bad_task_id", value=args[0][:20]))
        return
    if len(args) == 1:
        await rollups.reply_page(update, context, member, rollups.task_view(member, task_id))
        return
    try:
        async with runtime.db.session() as session:
            unit = await task_views.unit_with_task(session, member.actor, task_id, args[1])
            if unit.assigned:
                history = await task_views.unit_history(session, member.actor, task_id, unit.id)
                moves = await deadlines.history(session, member.actor, history.task)
    except (ServiceError, NotAllowed) as error:
        await reply(update, explain(lang, error))
        return
    if unit.assigned:
        await reply(update, *history_message(lang, history, context, moves))
    else:
        await rollups.reply_page(
            update, context, member, rollups.task_view(member, task_id, unit.id)
        )


def history_message(
    lang: str,
    history: task_views.UnitHistory,
    context: FieldbotContext,
    moves: Sequence[deadlines.PastMove] = (),
) -> tuple[str, list[list[Button]] | None]:
    task, tz = history.task, context.runtime.config.tz
    rows = [t(lang, "view.history_header", id=task.id, title=task.title, unit=history.unit_name)]
    if not history.lines:
        rows.append(t(lang, "view.history_empty"))
    pending_moves = list(moves)
    reported = [line for line in history.lines if line.report.kind == ReportKind.REPORT]
    latest = reported[-1] if reported else None
    for line in history.lines:
        while pending_moves and pending_moves[0].at <= line.report.received_at:
            rows.append(_move_history_line(lang, pending_moves.pop(0), tz))
        report = line.report
        key = "view.history_return" if report.kind == ReportKind.RETURN else "view.history_line"
        rows.append(
            t(
                lang,
                key,
                at=local(report.reported_at, tz),
                by=line.by,
                state=state_label(lang, report.state),
                progress=report.progress,
                late=" ⏰" if report.late else "",
                files=len(report.attachments),
            )
        )
        if report.note:  # the latest report's whole (alerts point here for it), others begun
            whole = line is latest
            note, cut = (report.note, False) if whole else cut_words(report.note, EARLIER_NOTE)
            rows.append(f"   “{note}{'…' if cut else ''}”")
    rows += [_move_history_line(lang, move, tz) for move in pending_moves]
    if not history.can_return:
        return "\n".join(rows), None
    data = callbacks.encode(callbacks.UnitAction(task.id, history.unit_id, "return"))
    return "\n".join(rows), [[Button(t(lang, "task.return_button"), data)]]


def _move_history_line(lang: str, move: deadlines.PastMove, tz: ZoneInfo) -> str:
    return t(
        lang,
        "deadline.history_line",
        at=local(move.at, tz),
        by=move.by or t(lang, "deadline.by_import"),
        old=local(move.old, tz),
        new=local(move.new, tz),
    )


async def task_action(update: Update, context: FieldbotContext) -> None:
    """Refresh the view, ask to close, or close for sure."""
    found = await pressed(update, context, callbacks.TaskAction)
    if found is None:
        return
    query, payload, member = found
    lang, runtime = member.language, context.runtime
    try:
        async with runtime.db.session() as session:
            if payload.verb == "close_sure":
                await reports.close_task(
                    session, runtime.clock, member.actor, payload.task_id, runtime.config.tz
                )
            status = await task_views.task_status(
                session, member.actor, payload.task_id, runtime.clock.now()
            )
    except (ServiceError, NotAllowed) as error:
        await query.answer(explain(lang, error), show_alert=True)
        return
    if payload.verb == "close":
        if not status.can_change:
            await query.answer(t(lang, "authz.role_denied"), show_alert=True)
            return
        await query.answer()
        sure = callbacks.encode(callbacks.TaskAction(payload.task_id, "close_sure"))
        back = callbacks.encode(callbacks.TaskAction(payload.task_id, "view"))
        await reply(
            update,
            t(lang, "view.close_confirm", id=payload.task_id, title=status.task.title),
            [[Button(t(lang, "view.close_sure"), sure), Button(t(lang, "compose.cancel"), back)]],
        )
        return
    closed = t(lang, "view.closed_short") if payload.verb == "close_sure" else None
    view = rollups.task_view(member, payload.task_id)
    await rollups.edit_page(update, context, member, view, note=closed)


async def unit_action(update: Update, context: FieldbotContext) -> None:
    """On one unit: see its history, or ask it for more (the comment is typed next)."""
    found = await pressed(update, context, callbacks.UnitAction)
    if found is None:
        return
    query, payload, member = found
    lang, runtime = member.language, context.runtime
    try:
        if payload.verb == "history":
            async with runtime.db.session() as session:
                history = await task_views.unit_history(
                    session, member.actor, payload.task_id, payload.unit_id
                )
            await query.answer()
            await reply(update, *history_message(lang, history, context))
            return
        async with runtime.db.session() as session:
            status = await task_views.task_status(
                session, member.actor, payload.task_id, runtime.clock.now()
            )
            if not status.can_change or status.task.closed_at is not None:
                key = "report.closed" if status.task.closed_at else "authz.role_denied"
                raise reports.ReportError(key, id=payload.task_id)
            data = {"task_id": payload.task_id, "unit_id": payload.unit_id}
            await drafts.save(session, runtime.clock, member.id, "return", 1, data)
    except (ServiceError, NotAllowed) as error:
        await query.answer(explain(lang, error), show_alert=True)
        return
    await query.answer()
    await reply(update, t(lang, "view.ask_comment", id=payload.task_id))


async def on_input(
    update: Update, context: FieldbotContext, member: MemberView, draft: drafts.DraftView
) -> None:
    """The coordinator's comment for a report sent back."""
    message = update.effective_message
    assert message is not None  # noqa: S101 - a message handler always has one
    lang, runtime = member.language, context.runtime
    try:
        async with runtime.db.session() as session:
            unit = await reports.return_report(
                session,
                runtime.clock,
                member.actor,
                int(draft.data["task_id"]),
                int(draft.data["unit_id"]),
                message.text or message.caption or "",
                runtime.config.tz,
                QuietHours.of(runtime.config),
            )
            await drafts.discard(session, member.id)
    except (ServiceError, NotAllowed) as error:
        await reply(update, explain(lang, error))
        return
    runtime.wake_sender()
    await reply(update, t(lang, "view.returned", id=draft.data["task_id"], unit=unit))


def register(app: FieldbotApp) -> None:
    app.add_handler(CallbackQueryHandler(task_action, pattern=r"^t[vcz]:"))
    app.add_handler(CallbackQueryHandler(unit_action, pattern=r"^t[ru]:"))
