"""/plan and /task in chat: small forms kept in the database (drafts).

/plan: code → title → event date. /task: plan → title → description → units → deadline →
preview → assign. ``/task N`` (with a number) shows a task instead; see handlers.task_views.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t
from bot.core.parsing import ParseError, looks_like_number, parse_date, parse_int
from bot.core.timefmt import local
from bot.services import directives, drafts, plans
from bot.services.authz import Action, NotAllowed
from bot.services.directives import Target
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.services.notify import Button
from bot.services.quiet import QuietHours
from bot.services.rollups import nobody_in
from handlers import task_views
from handlers.common import (
    explain,
    member_allowed,
    nobody_line,
    pressed_in_form,
    registered_member,
    reply,
    reply_key,
)
from handlers.compose import target_buttons, target_from_choice

DEADLINE_DAYS = ("3", "7", "14", "30")


class Step(IntEnum):
    PLAN_CODE = 1
    PLAN_TITLE = 2
    PLAN_DATE = 3
    CHOOSE_PLAN = 10
    TITLE = 11
    DESCRIPTION = 12
    TARGET = 13
    UNIT_LIST = 14
    DEADLINE = 15
    CONFIRM = 16


def _choice(field: str, value: str) -> str:
    return callbacks.encode(callbacks.TaskFormChoice(field, value))


def deadline_buttons(lang: str) -> list[list[Button]]:
    return [[Button(t(lang, "taskform.days", days=d), _choice("d", d)) for d in DEADLINE_DAYS]]


async def start_plan(update: Update, context: FieldbotContext) -> None:
    member = await member_allowed(update, context, Action.CREATE_PLAN)
    if member is None:
        return
    async with context.runtime.db.session() as session:
        await drafts.save(session, context.runtime.clock, member.id, "plan", Step.PLAN_CODE, {})
    await reply_key(update, member.language, "taskform.ask_plan_code")


async def task_command(update: Update, context: FieldbotContext) -> None:
    """``/task`` starts the form; ``/task N`` shows task N; ``/task N CODE`` one unit."""
    member = await registered_member(update, context)
    if member is None:
        return
    args = context.args or []
    if args and looks_like_number(args[0].removeprefix("#")):
        await task_views.show_task(update, context, member, args)
        return
    lang, runtime = member.language, context.runtime
    try:
        async with runtime.db.session() as session:
            found = await plans.plans_for(session, member.actor)
            if found:
                data = {"plans": [[p.id, p.code] for p in found]}
                await drafts.save(session, runtime.clock, member.id, "task", Step.CHOOSE_PLAN, data)
    except NotAllowed as refusal:
        await reply(update, explain(lang, refusal))
        return
    if not found:
        await reply_key(update, lang, "taskform.no_plans")
        return
    buttons = [
        [Button(f"{p.code} — {p.title[:40]}", _choice("p", str(i)))] for i, p in enumerate(found)
    ]
    await reply_key(update, lang, "taskform.ask_plan", buttons=buttons)


async def on_input(
    update: Update, context: FieldbotContext, member: MemberView, draft: drafts.DraftView
) -> None:
    message = update.effective_message
    assert message is not None  # noqa: S101 - a message handler always has one
    text = (message.text or message.caption or "").strip()
    lang, step, data = member.language, Step(draft.step), dict(draft.data)
    try:
        if step is Step.PLAN_CODE:
            data["code"] = plans.checked_code(text)
            await _next(
                update, context, member, "plan", Step.PLAN_TITLE, data, "taskform.ask_plan_title"
            )
        elif step is Step.PLAN_TITLE:
            data["title"] = plans.checked_title(text)
            await _next(
                update, context, member, "plan", Step.PLAN_DATE, data, "taskform.ask_event_date"
            )
        elif step is Step.PLAN_DATE:
            await _create_plan(update, context, member, data, text)
        elif step is Step.TITLE:
            data["title"] = plans.checked_title(text)
            await _next(
                update,
                context,
                member,
                "task",
                Step.DESCRIPTION,
                data,
                "taskform.ask_description",
                buttons=[[Button(t(lang, "taskform.skip"), _choice("s", "skip"))]],
            )
        elif step is Step.DESCRIPTION:
            data["description"] = plans.checked_description(text)
            await _ask_target(update, context, member, data)
        elif step is Step.UNIT_LIST:
            codes = ",".join(p for p in text.replace(";", ",").replace("\n", ",").split(","))
            await _set_target(update, context, member, data, f"list:{codes}")
        elif step is Step.DEADLINE:
            await _set_deadline(update, context, member, data, text)
        else:
            await reply_key(update, lang, "compose.use_buttons")
    except (ServiceError, NotAllowed) as error:
        await reply(update, explain(lang, error) + "\n" + t(lang, "compose.try_again"))


async def _next(
    update: Update,
    context: FieldbotContext,
    member: MemberView,
    kind: str,
    step: Step,
    data: dict[str, Any],
    key: str,
    *,
    buttons: list[list[Button]] | None = None,
    **params: object,
) -> None:
    async with context.runtime.db.session() as session:
        await drafts.save(session, context.runtime.clock, member.id, kind, step, data)
    await reply_key(update, member.language, key, buttons=buttons, **params)


def parse_event_date(text: str) -> date | None:
    try:
        return parse_date(text)
    except ParseError:
        return None


async def _create_plan(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any], text: str
) -> None:
    lang, runtime = member.language, context.runtime
    event_date = parse_event_date(text)
    if event_date is None:
        await reply_key(update, lang, "taskform.bad_event_date")
        return
    try:
        async with runtime.db.session() as session:
            plan = await plans.create_plan(
                session,
                runtime.clock,
                member.actor,
                code=data["code"],
                title=data["title"],
                event_date=event_date,
            )
            await drafts.discard(session, member.id)
    except (ServiceError, NotAllowed) as error:
        await reply(update, explain(lang, error))
        return
    await reply_key(
        update, lang, "taskform.plan_created", code=plan.code, date=event_date.strftime("%d/%m/%Y")
    )


async def _ask_target(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any]
) -> None:
    runtime, lang = context.runtime, member.language
    async with runtime.db.session() as session:
        levels, groups = await directives.target_options(session, member.actor, Action.ASSIGN_TASK)
        data.update(levels=levels, groups=groups)
        await drafts.save(session, runtime.clock, member.id, "task", Step.TARGET, data)
    buttons = target_buttons(lang, levels, groups, _choice)
    await reply_key(update, lang, "taskform.ask_target", buttons=buttons)


async def _set_target(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any], target: str
) -> None:
    runtime = context.runtime
    async with runtime.db.session() as session:
        units = await directives.resolve(
            session, member.actor, Target.parse(target), Action.ASSIGN_TASK
        )
        nobody = await nobody_in(session, units)
        data.update(
            target=target, unit_count=len(units), nobody=len(nobody), nobody_names=nobody[:3]
        )
        await drafts.save(session, runtime.clock, member.id, "task", Step.DEADLINE, data)
    await reply_key(
        update, member.language, "taskform.ask_deadline", buttons=deadline_buttons(member.language)
    )


async def _set_deadline(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any], text: str
) -> None:
    runtime, lang = context.runtime, member.language
    now, tz = runtime.clock.now(), runtime.config.tz
    event_date = date.fromisoformat(data["event_date"])
    when = plans.parse_deadline(text, event_date, now, tz)
    if when is None:
        await reply_key(update, lang, "taskform.bad_deadline", buttons=deadline_buttons(lang))
        return
    if when <= now:
        await reply_key(update, lang, "plan.deadline_past", buttons=deadline_buttons(lang))
        return
    data["deadline"] = when.isoformat()
    data["event_offset"] = plans.event_offset(text)  # "event-14d" moves with the event date
    async with runtime.db.session() as session:
        await drafts.save(session, runtime.clock, member.id, "task", Step.CONFIRM, data)
    buttons = [
        [
            Button(t(lang, "taskform.assign"), _choice("s", "send")),
            Button(t(lang, "compose.cancel"), _choice("s", "cancel")),
        ]
    ]
    text = t(
        lang,
        "taskform.preview",
        plan=data["plan_code"],
        title=data["title"],
        description=data.get("description") or "—",
        units=data["unit_count"],
        when=local(when, tz),
    )
    await reply(update, text + nobody_line(lang, data), buttons)


async def on_choice(update: Update, context: FieldbotContext) -> None:
    """A button of the task form. The tap is answered after what it did is stored; a choice the
    form did not offer (forged, or from an older step) changes nothing and keeps the form."""
    found = await pressed_in_form(update, context, callbacks.TaskFormChoice, frozenset({"task"}))
    if found is None:
        return
    query, choice, member, draft = found
    lang = member.language
    data, step = dict(draft.data), Step(draft.step)
    try:
        if choice.field == "p" and step is Step.CHOOSE_PLAN:
            done = await _choose_plan(update, context, member, data, choice.value)
        elif choice.field == "s" and choice.value == "skip" and step is Step.DESCRIPTION:
            data["description"] = ""
            await _ask_target(update, context, member, data)
            done = True
        elif choice.field == "t" and step is Step.TARGET:
            target = target_from_choice(choice.value, data)
            if target == "list":
                await _next(
                    update, context, member, "task", Step.UNIT_LIST, data, "compose.ask_list"
                )
            elif target is not None:
                await _set_target(update, context, member, data, target)
            done = target is not None
        elif choice.field == "d" and step is Step.DEADLINE and choice.value in DEADLINE_DAYS:
            await _set_deadline(update, context, member, data, f"{choice.value}d")
            done = True
        elif choice.field == "s" and step is Step.CONFIRM and choice.value in ("send", "cancel"):
            await _submit(update, context, member, data, choice.value == "send")
            done = True
        else:
            done = False
    except (ServiceError, NotAllowed) as error:
        await query.answer()
        after = "input.task_not_assigned" if step is Step.CONFIRM else "compose.try_again"
        await reply(update, explain(lang, error) + "\n" + t(lang, after))
        return
    await query.answer(None if done else t(lang, "input.bad_choice"), show_alert=not done)


async def _choose_plan(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any], value: str
) -> bool:
    """The plan at the offered position ``value``; False (nothing changed) if none is there."""
    options = data.get("plans", [])
    try:
        index = parse_int(value, low=0, high=len(options) - 1)
    except ParseError:
        return False
    plan_id, code = options[index]
    async with context.runtime.db.session() as session:
        plan = await plans.plan_for(session, member.actor, int(plan_id))
    data = {"plan_id": plan.id, "plan_code": code, "event_date": plan.event_date.isoformat()}
    await _next(update, context, member, "task", Step.TITLE, data, "taskform.ask_title", code=code)
    return True


async def _submit(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any], send: bool
) -> None:
    runtime, lang = context.runtime, member.language
    if not send:
        async with runtime.db.session() as session:
            await drafts.discard(session, member.id)
        await reply_key(update, lang, "compose.cancelled")
        return
    async with runtime.db.session() as session:
        sent = await plans.create_task(
            session,
            runtime.clock,
            member.actor,
            int(data["plan_id"]),
            title=data["title"],
            description=data.get("description", ""),
            deadline=datetime.fromisoformat(data["deadline"]),
            target=Target.parse(data["target"]),
            tz=runtime.config.tz,
            quiet=QuietHours.of(runtime.config),
            event_offset_minutes=data.get("event_offset"),
        )
        await drafts.discard(session, member.id)
    runtime.wake_sender()
    text = t(
        lang, "taskform.assigned", id=sent.task_id, units=sent.unit_count, members=sent.member_count
    )
    if sent.held_until is not None:
        text += "\n" + t(lang, "taskform.held", when=local(sent.held_until, runtime.config.tz))
    elif sent.before_morning:
        text += "\n" + t(lang, "taskform.sent_at_night")
    await reply(update, text)


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("plan", start_plan))
    app.add_handler(CommandHandler("task", task_command))
    app.add_handler(CallbackQueryHandler(on_choice, pattern=r"^kp:"))
