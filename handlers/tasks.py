"""/tasks and reporting in three taps: task → state → progress; then an optional note or file.

``/report 12 xong`` does the same in one typed message, which keeps the member's own time
when it waited for coverage. Progress that goes down (75% → 25%) asks for a reason first, in
the next message, whichever way it was reported.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t
from bot.core.parsing import ParseError, looks_like_number, parse_percent
from bot.core.timefmt import local, until
from bot.services import drafts, reports
from bot.services.authz import NotAllowed
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.services.notify import Button
from bot.services.quiet import QuietHours
from bot.services.reports import Attachment, ReasonNeeded, Reported, TaskState
from handlers import fallback
from handlers.common import (
    answer_or_reply,
    explain,
    keyboard,
    pressed,
    registered_member,
    reply,
)
from handlers.typed_report import DEFAULT_PROGRESS, TypedError, parse_typed, spoken_state

NOTE_WINDOW = timedelta(minutes=30)  # after a report, text and files join it for this long
STATE_ICONS = {
    TaskState.NOT_STARTED: "⚪",
    TaskState.IN_PROGRESS: "🔵",
    TaskState.DONE: "✅",
    TaskState.BLOCKED: "⛔",
}
PROGRESS_CHOICES = {
    TaskState.IN_PROGRESS: (25, 50, 75, 100),
    TaskState.BLOCKED: (0, 25, 50, 75),
}


class Step(IntEnum):
    PROGRESS = 1
    NOTE = 2
    REASON = 3  # progress went down: the next message says why


def state_label(lang: str, state: TaskState | str) -> str:
    return t(lang, f"report.state_{state}")


def state_buttons(lang: str, task_id: int) -> list[list[Button]]:
    def choice(state: TaskState) -> Button:
        data = callbacks.encode(callbacks.TaskStateChoice(task_id, state))
        return Button(f"{STATE_ICONS[state]} {state_label(lang, state)}", data)

    return [
        [choice(TaskState.NOT_STARTED), choice(TaskState.IN_PROGRESS)],
        [choice(TaskState.DONE), choice(TaskState.BLOCKED)],
    ]


def progress_buttons(task_id: int, state: TaskState) -> list[list[Button]]:
    return [
        [
            Button(f"{p}%", callbacks.encode(callbacks.TaskProgress(task_id, state, p)))
            for p in PROGRESS_CHOICES[state]
        ]
    ]


def card_text(lang: str, card: reports.TaskCard, context: FieldbotContext) -> str:
    task, assignment = card.task, card.assignment
    runtime, returned = context.runtime, assignment.returned_at is not None
    deadline = t(lang, "task.deadline_line", when=local(task.deadline, runtime.config.tz))
    if assignment.state != TaskState.DONE or returned:
        deadline += t(lang, "span.suffix", left=until(lang, task.deadline, runtime.clock.now()))
    standing = reports.standing(lang, assignment.state, assignment.progress, returned=returned)
    rows = [
        t(lang, "task.header", id=task.id, title=task.title),
        deadline,
        t(lang, "report.current_standing", standing=standing),
    ]
    if assignment.return_comment:
        rows.append(t(lang, "tasks.returned_line", comment=assignment.return_comment))
    rows += ["", t(lang, "report.choose_state")]
    return "\n".join(rows)


async def open_task(update: Update, context: FieldbotContext) -> None:
    """Tap 1: the task, with the four states to choose from."""
    found = await pressed(update, context, callbacks.TaskOpen)
    if found is None:
        return
    query, payload, member = found
    lang = member.language
    try:
        async with context.runtime.db.session() as session:
            card = await reports.task_card(session, member.actor, payload.task_id)
    except (ServiceError, NotAllowed) as error:
        await query.answer(explain(lang, error), show_alert=True)
        return
    await query.answer()
    await reply(update, card_text(lang, card, context), state_buttons(lang, payload.task_id))


async def choose_state(update: Update, context: FieldbotContext) -> None:
    """Tap 2: a state. Done and not started need no progress, so they are saved now."""
    found = await pressed(update, context, callbacks.TaskStateChoice)
    if found is None:
        return
    query, payload, member = found
    lang = member.language
    state = TaskState(payload.state)
    if state not in PROGRESS_CHOICES:
        await _save(update, context, member, payload.task_id, state, None)
        return
    runtime = context.runtime
    try:
        async with runtime.db.session() as session:
            await reports.task_card(session, member.actor, payload.task_id)
            data = {"task_id": payload.task_id, "state": state.value}
            await drafts.save(session, runtime.clock, member.id, "report", Step.PROGRESS, data)
    except (ServiceError, NotAllowed) as error:
        await query.answer(explain(lang, error), show_alert=True)
        return
    await query.answer()
    text = t(lang, "report.choose_progress", state=state_label(lang, state))
    await _edit_or_reply(update, text, progress_buttons(payload.task_id, state))


async def choose_progress(update: Update, context: FieldbotContext) -> None:
    """Tap 3: progress; the report is saved."""
    found = await pressed(update, context, callbacks.TaskProgress)
    if found is not None:
        _, payload, member = found
        state = TaskState(payload.state)
        await _save(update, context, member, payload.task_id, state, payload.progress)


async def _save(
    update: Update,
    context: FieldbotContext,
    member: MemberView,
    task_id: int,
    state: TaskState,
    progress: int | None,
    *,
    note: str = "",
    member_time: datetime | None = None,
    default_progress: int | None = None,
) -> None:
    runtime, lang = context.runtime, member.language
    now = runtime.clock.now()
    try:
        async with runtime.db.session() as session:
            done = await reports.submit_report(
                session,
                runtime.clock,
                member.actor,
                task_id,
                state,
                progress,
                runtime.config.tz,
                note=note,
                member_time=member_time,
                quiet=QuietHours.of(runtime.config),
                default_progress=default_progress,
            )
            await drafts.save(
                session, runtime.clock, member.id, "report", Step.NOTE, _note_data(done, now)
            )
    except ReasonNeeded as needed:
        await _ask_reason(update, context, member, needed, member_time)
        return
    except (ServiceError, NotAllowed) as error:
        await answer_or_reply(update, explain(lang, error))
        return
    runtime.wake_sender()
    if update.callback_query is not None:
        await update.callback_query.answer(t(lang, "report.saved_short"))
    await _edit_or_reply(update, saved_text(lang, done, has_note=bool(note)), None)


async def _ask_reason(
    update: Update,
    context: FieldbotContext,
    member: MemberView,
    needed: ReasonNeeded,
    member_time: datetime | None,
) -> None:
    """Progress would go down: nothing is saved yet; the next message is the reason."""
    runtime, lang = context.runtime, member.language
    data: dict[str, Any] = {"task_id": needed.task_id, "state": needed.state.value}
    data |= {"progress": needed.new, "old": needed.old}
    if member_time is not None:
        data["member_time"] = member_time.isoformat()
    async with runtime.db.session() as session:
        await drafts.save(session, runtime.clock, member.id, "report", Step.REASON, data)
    if update.callback_query is not None:
        await update.callback_query.answer()
    text = t(
        lang,
        "report.reason_ask",
        old=needed.old,
        new=needed.new,
        state=state_label(lang, needed.state),
    )
    await _edit_or_reply(update, text, None)


def _note_data(done: Reported, now: datetime) -> dict[str, Any]:
    return {
        "report_id": done.report_id,
        "task_id": done.task_id,
        "until": (now + NOTE_WINDOW).isoformat(),
    }


def saved_text(lang: str, done: Reported, *, has_note: bool) -> str:
    rows = [
        t(
            lang,
            "report.saved",
            id=done.task_id,
            unit=done.unit_name,
            state=state_label(lang, done.state),
            progress=done.progress,
        )
    ]
    if done.late:
        rows.append(t(lang, "report.saved_late"))
    if done.escalated_to:
        rows.append(t(lang, "report.escalated", count=done.escalated_to))
    if done.regressed_to:
        rows.append(t(lang, "report.regressed", count=done.regressed_to))
    rows.append(t(lang, "report.add_more" if not has_note else "report.add_files"))
    return "\n".join(rows)


async def _edit_or_reply(update: Update, text: str, buttons: list[list[Button]] | None) -> None:
    """Replace the tapped message's buttons with the next step (or reply when typed)."""
    query = update.callback_query
    message = query.message if query is not None else None
    if isinstance(message, Message):
        await message.edit_text(text, reply_markup=keyboard(buttons) if buttons else None)
    else:
        await reply(update, text, buttons)


async def on_input(
    update: Update, context: FieldbotContext, member: MemberView, draft: drafts.DraftView
) -> None:
    """A typed progress (step 3), or a note, photo or document for the report just made."""
    message = update.effective_message
    assert message is not None  # noqa: S101 - a message handler always has one
    lang = member.language
    if draft.step == Step.PROGRESS:
        state = TaskState(draft.data["state"])
        text = (message.text or "").strip()
        try:
            progress = parse_percent(text)
        except ParseError:
            # A number out of range is told so; anything else gets the buttons again.
            number = looks_like_number(text)
            key = "report.bad_progress" if number else "report.use_buttons"
            buttons = None if number else progress_buttons(draft.data["task_id"], state)
            await reply(update, t(lang, key), buttons)
            return
        await _save(update, context, member, draft.data["task_id"], state, progress)
        return
    if draft.step == Step.REASON:
        await _reason_given(update, context, member, draft.data, message)
        return
    if datetime.fromisoformat(draft.data["until"]) < context.runtime.clock.now():
        async with context.runtime.db.session() as session:
            await drafts.discard(session, member.id)
        await fallback.not_understood(update, context)
        return
    said = None
    if message.text and "task_id" in draft.data:
        said = spoken_state(message.text)
    if said is not None and _only_state(said[1]):
        # "xong" typed under the report: a new report, not a note on the old one.
        state, rest = said
        try:
            typed = parse_percent(rest[0]) if rest else None
        except ParseError:
            await reply(update, t(lang, "report.bad_progress"))
            return
        task_id = int(draft.data["task_id"])
        default = DEFAULT_PROGRESS.get(state)
        await _save(update, context, member, task_id, state, typed, default_progress=default)
        return
    hint = None
    if said is not None:  # a note that begins like a state: kept as a note, and asked
        data = callbacks.encode(callbacks.TaskStateChoice(int(draft.data["task_id"]), said[0]))
        hint = [[Button(f"{STATE_ICONS[said[0]]} {state_label(lang, said[0])}", data)]]
    await _add_to_report(update, context, member, int(draft.data["report_id"]), message, hint)


def _only_state(rest: list[str]) -> bool:
    """Nothing after the state word but, perhaps, a progress: ``xong`` · ``đang 60%``."""
    return not rest or (len(rest) == 1 and looks_like_number(rest[0].removesuffix("%")))


async def _reason_given(
    update: Update,
    context: FieldbotContext,
    member: MemberView,
    data: dict[str, Any],
    message: Message,
) -> None:
    """The reason progress goes down: the report is saved with it as its note."""
    reason = message.text or message.caption or ""
    if not reason.strip():  # a photo or file alone says no reason
        text = t(member.language, "report.reason_again", old=data["old"], new=data["progress"])
        await reply(update, text)
        return
    written = data.get("member_time")
    await _save(
        update,
        context,
        member,
        int(data["task_id"]),
        TaskState(data["state"]),
        int(data["progress"]),
        note=reason,
        member_time=datetime.fromisoformat(written) if written else None,
    )


async def _add_to_report(
    update: Update,
    context: FieldbotContext,
    member: MemberView,
    report_id: int,
    message: Message,
    hint: list[list[Button]] | None = None,
) -> None:
    runtime, lang = context.runtime, member.language
    attachment = None
    try:
        if message.photo:
            photo = message.photo[-1]
            reports.check_attachment("photo", photo.file_size, None)
            attachment = Attachment("photo", photo.file_id)
        elif message.document is not None:
            doc = message.document
            reports.check_attachment("document", doc.file_size, doc.file_name)
            attachment = Attachment("document", doc.file_id, doc.file_name)
        note = message.text or message.caption or ""
        async with runtime.db.session() as session:
            told = await reports.add_to_report(
                session,
                runtime.clock,
                member.actor,
                report_id,
                runtime.config.tz,
                note=note,
                attachment=attachment,
            )
    except (ServiceError, NotAllowed) as error:
        await reply(update, explain(lang, error) + "\n" + t(lang, "report.kept"))
        return
    runtime.wake_sender()
    key = "report.file_added" if attachment else "report.note_added"
    text = t(lang, key)
    if told:
        text += "\n" + t(lang, "report.escalated", count=told)
    if hint:
        text += "\n" + t(lang, "report.state_or_note", state=hint[0][0].label)
    await reply(update, text, hint)


async def typed_report(update: Update, context: FieldbotContext) -> None:
    """``/report 12 xong`` · ``/report 12 đang 50 ghi chú`` · ``/report 12 vướng 25 lý do``."""
    member = await registered_member(update, context)
    message = update.effective_message
    if member is None or message is None:
        return
    lang = member.language
    try:
        parsed = parse_typed(lang, context.args or [])
    except TypedError as bad:
        await reply(update, t(lang, bad.key, value=bad.value))
        return
    if parsed is None:
        await reply(update, t(lang, "report.typed_usage"))
        return
    task_id, state, progress, note = parsed
    sent_at = message.date.astimezone(UTC) if message.date else None
    await _save(
        update,
        context,
        member,
        task_id,
        state,
        progress,
        note=note,
        member_time=sent_at,
        default_progress=DEFAULT_PROGRESS.get(state),
    )


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("report", typed_report))
    app.add_handler(CallbackQueryHandler(open_task, pattern=r"^tk:"))
    app.add_handler(CallbackQueryHandler(choose_state, pattern=r"^ts:"))
    app.add_handler(CallbackQueryHandler(choose_progress, pattern=r"^tp:"))
