"""The member's own list of work: /tasks, and the 📋 button under a bundled reminder.

What is owed by the member's unit, soonest or longest late first, each with its button; for
a coordinator, the tasks of the part of the tree below, with how far each has got.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t
from bot.core.timefmt import local, relative
from bot.services import task_views
from bot.services.authz import NotAllowed
from bot.services.notify import Button
from bot.services.reports import TaskState
from handlers.common import explain, pressed, registered_member, reply
from handlers.tasks import STATE_ICONS


def deadline_phrase(lang: str, line: task_views.TaskLine) -> str:
    """``còn 5 giờ 20 phút`` · ``đến hạn`` · ``quá hạn 2 giờ`` (``timefmt.relative``, as every
    notice); ``đã hoàn thành`` once done, unless the report was sent back for more."""
    if line.state == TaskState.DONE and not line.returned:
        return t(lang, "tasks.done_phrase")
    return relative(lang, line.left)


def my_tasks_text(
    lang: str,
    unit: str,
    lines: list[task_views.TaskLine],
    below: list[task_views.SubtreeLine],
    context: FieldbotContext,
) -> str:
    tz = context.runtime.config.tz
    rows = [t(lang, "tasks.header", unit=unit)] if lines else [t(lang, "tasks.none", unit=unit)]
    for line in lines:
        rows.append(
            t(
                lang,
                "tasks.line_overdue" if line.overdue else "tasks.line_left",
                icon=STATE_ICONS[line.state],
                id=line.id,
                title=line.title,
                when=local(line.deadline, tz),
                left=deadline_phrase(lang, line),
                progress=line.progress,
            )
        )
        if line.return_comment:
            rows.append(t(lang, "tasks.returned_line", comment=line.return_comment[:200]))
    if below:
        rows += ["", t(lang, "tasks.below_header")]
        for item in below:
            r = item.rollup
            rows.append(
                t(
                    lang,
                    "tasks.below_line",
                    id=item.task.id,
                    title=item.task.title,
                    done=r.done,
                    units=r.units,
                    blocked=r.blocked,
                    when=local(item.task.deadline, tz),
                )
            )
    if lines:
        rows += ["", t(lang, "tasks.hint")]
    return "\n".join(rows)


async def list_tasks(update: Update, context: FieldbotContext) -> None:
    member = await registered_member(update, context)
    if member is None:
        return
    lang, runtime = member.language, context.runtime
    try:
        async with runtime.db.session() as session:
            lines = await task_views.my_tasks(session, member.actor, runtime.clock.now())
            below = await task_views.subtree_tasks(session, member.actor)
    except NotAllowed as refusal:
        await reply(update, explain(lang, refusal))
        return
    mine = [Button(f"#{line.id}", callbacks.encode(callbacks.TaskOpen(line.id))) for line in lines]
    views = [
        Button(f"📊 #{item.task.id}", callbacks.encode(callbacks.TaskAction(item.task.id, "view")))
        for item in below
    ]
    buttons = _rows(mine) + _rows(views)
    text = my_tasks_text(lang, member.unit_name, lines, below, context)
    await reply(update, text, buttons)


def _rows(buttons: list[Button], width: int = 5) -> list[list[Button]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


async def show_all(update: Update, context: FieldbotContext) -> None:
    """📋 under a reminder: the same list as /tasks, as a new message below it."""
    found = await pressed(update, context, callbacks.ListAll)
    if found is None:
        return
    await found[0].answer()
    await list_tasks(update, context)


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("tasks", list_tasks))
    app.add_handler(CallbackQueryHandler(show_all, pattern=r"^la$"))
