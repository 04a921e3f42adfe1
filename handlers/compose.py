"""/directive: compose a directive step by step (text → target → deadline → urgency → send).

The form lives in the database (``drafts``), so a restart in the middle loses nothing.
At the urgency step a số hiệu may be typed before a level is tapped (no tap when there is
none). Amending a directive reuses the text step (``handlers.amendments``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core import callbacks
from bot.core.i18n import t, t_or
from bot.core.parsing import ParseError, has_visible, parse_int
from bot.core.timefmt import local, parse_when
from bot.services import directives, drafts
from bot.services.authz import Action, NotAllowed
from bot.services.directive_text import checked_number, level_label, parse_urgency
from bot.services.directives import DirectiveError, Target, Urgency
from bot.services.members import MemberView
from bot.services.notify import Button
from bot.services.quiet import QuietHours
from handlers import amendments
from handlers.amendments import held_line
from handlers.common import (
    explain,
    member_allowed,
    nobody_line,
    pressed_in_form,
    registered_member,
    reply,
    reply_key,
)
from handlers.urgency import chosen_urgency, draft_urgency, urgency_buttons

DEADLINE_HOURS = ("4", "24", "48", "72", "168")


class Step(IntEnum):
    TEXT = 1
    TARGET = 2
    UNIT_LIST = 3
    DEADLINE = 4
    URGENCY = 5
    CONFIRM = 6


def _choice(field: str, value: str) -> str:
    return callbacks.encode(callbacks.ComposeChoice(field, value))


def target_buttons(
    lang: str, levels: list[str], groups: list[str], choice: Callable[[str, str], str] = _choice
) -> list[list[Button]]:
    """Whole subtree, one level, a saved group, or a typed list (shared with the task form)."""
    rows = [[Button(t(lang, "compose.target_subtree"), choice("t", "sub"))]]
    for index, level in enumerate(levels):
        label = t_or(lang, f"levels.{level}", level)
        rows.append(
            [Button(t(lang, "compose.target_level", level=label), choice("t", f"l{index}"))]
        )
    for index, name in enumerate(groups):
        rows.append([Button(t(lang, "compose.target_group", name=name), choice("t", f"g{index}"))])
    rows.append([Button(t(lang, "compose.target_list"), choice("t", "list"))])
    return rows


def deadline_buttons(lang: str) -> list[list[Button]]:
    hours = [Button(t(lang, f"compose.hours_{h}"), _choice("d", h)) for h in DEADLINE_HOURS]
    return [hours[:3], hours[3:]]


def confirm_buttons(lang: str) -> list[list[Button]]:
    return [
        [
            Button(t(lang, "compose.send"), _choice("s", "send")),
            Button(t(lang, "compose.cancel"), _choice("s", "cancel")),
        ]
    ]


async def start(update: Update, context: FieldbotContext) -> None:
    member = await member_allowed(update, context, Action.SEND_DIRECTIVE)
    if member is None:
        return
    lang = member.language
    runtime = context.runtime
    async with runtime.db.session() as session:
        await drafts.save(session, runtime.clock, member.id, "directive", Step.TEXT, {})
    await reply_key(update, lang, "compose.ask_text", max=directives.MAX_TEXT)


async def cancel(update: Update, context: FieldbotContext) -> None:
    member = await registered_member(update, context)
    if member is None:
        return
    lang = member.language
    async with context.runtime.db.session() as session:
        had = await drafts.discard(session, member.id)
    await reply_key(update, lang, "compose.cancelled" if had else "compose.nothing_to_cancel")


async def on_input(
    update: Update, context: FieldbotContext, member: MemberView, draft: drafts.DraftView
) -> None:
    """The next answer of an open directive form (text or a file)."""
    lang = member.language
    message = update.effective_message
    assert message is not None  # noqa: S101 - a message handler always has one
    text = message.text or message.caption or ""
    step = Step(draft.step)
    if step is Step.TEXT:
        await _take_text(update, context, member, draft, text, message.document)
    elif step is Step.UNIT_LIST:
        await _take_unit_list(update, context, member, draft.data, text)
    elif step is Step.DEADLINE:
        when = parse_when(text, context.runtime.clock.now(), context.runtime.config.tz)
        if when is None:
            await reply_key(update, lang, "compose.bad_deadline", buttons=deadline_buttons(lang))
            return
        await _set_deadline(update, context, member, draft.data, when)
    elif step is Step.URGENCY:
        await _take_number(update, context, member, draft.data, text)
    else:
        await reply_key(update, lang, "compose.use_buttons")


async def _take_text(
    update: Update,
    context: FieldbotContext,
    member: MemberView,
    draft: drafts.DraftView,
    text: str,
    document: Any,
) -> None:
    lang, runtime = member.language, context.runtime
    data = dict(draft.data)
    if document is not None:
        data["document_file_id"] = document.file_id
    if not has_visible(text):  # nothing shown: spaces or a zero-width character alone
        async with runtime.db.session() as session:
            await drafts.save(session, runtime.clock, member.id, draft.kind, Step.TEXT, data)
        await reply_key(
            update,
            lang,
            "compose.file_kept" if document else "compose.ask_text",
            max=directives.MAX_TEXT,
        )
        return
    try:
        text = directives.checked_text(text)  # told now, not after choosing the units
    except DirectiveError as error:
        await reply(update, t(lang, error.key, **error.params))
        return
    if draft.kind == "amend":
        await amendments.amend(update, context, member, int(data["directive_id"]), text)
        return
    data["text"] = text
    async with runtime.db.session() as session:
        levels, groups = await directives.target_options(session, member.actor)
        data.update(levels=levels, groups=groups)
        await drafts.save(session, runtime.clock, member.id, draft.kind, Step.TARGET, data)
    await reply_key(
        update, lang, "compose.ask_target", buttons=target_buttons(lang, levels, groups)
    )


async def _take_unit_list(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any], text: str
) -> None:
    codes = ",".join(part for part in text.replace(";", ",").replace("\n", ",").split(","))
    await _set_target(update, context, member, data, f"list:{codes}")


async def _set_target(
    update: Update,
    context: FieldbotContext,
    member: MemberView,
    data: dict[str, Any],
    target: str,
) -> None:
    runtime, lang = context.runtime, member.language
    try:
        async with runtime.db.session() as session:
            await directives.resolve(session, member.actor, Target.parse(target))
            await drafts.save(
                session,
                runtime.clock,
                member.id,
                "directive",
                Step.DEADLINE,
                {**data, "target": target},
            )
    except (DirectiveError, NotAllowed) as error:
        await reply(update, explain(lang, error) + "\n" + t(lang, "compose.try_again"))
        return
    await reply_key(update, lang, "compose.ask_deadline", buttons=deadline_buttons(lang))


async def _set_deadline(
    update: Update,
    context: FieldbotContext,
    member: MemberView,
    data: dict[str, Any],
    when: datetime,
) -> None:
    runtime, lang = context.runtime, member.language
    if when <= runtime.clock.now():
        await reply_key(update, lang, "directive.deadline_past", buttons=deadline_buttons(lang))
        return
    async with runtime.db.session() as session:
        await drafts.save(
            session,
            runtime.clock,
            member.id,
            "directive",
            Step.URGENCY,
            {**data, "ack_by": when.isoformat()},
        )
    await reply_key(
        update,
        lang,
        "compose.ask_urgency",
        when=local(when, runtime.config.tz),
        buttons=urgency_buttons(lang),
    )


async def _take_number(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any], text: str
) -> None:
    """Text at the urgency step: a số hiệu (kept, the levels asked again), or a level typed
    instead of tapped. A bad number is explained and changes nothing of the form."""
    runtime, lang = context.runtime, member.language
    level = parse_urgency(text)
    if level is not None:
        await _preview(update, context, member, {**data, "urgency": level.value})
        return
    try:
        number = checked_number(text)
    except DirectiveError as error:
        buttons = urgency_buttons(lang, bool(data.get("number")))
        await reply(update, explain(lang, error), buttons)
        return
    if number is None:
        await reply_key(update, lang, "compose.use_buttons", buttons=urgency_buttons(lang))
        return
    async with runtime.db.session() as session:
        await drafts.save(
            session, runtime.clock, member.id, "directive", Step.URGENCY, {**data, "number": number}
        )
    await reply_key(
        update, lang, "urgency.number_kept", number=number, buttons=urgency_buttons(lang, True)
    )


async def _drop_number(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any]
) -> None:
    runtime, lang = context.runtime, member.language
    kept = {k: v for k, v in data.items() if k != "number"}
    async with runtime.db.session() as session:
        await drafts.save(session, runtime.clock, member.id, "directive", Step.URGENCY, kept)
    await reply_key(update, lang, "urgency.number_dropped", buttons=urgency_buttons(lang))


async def on_choice(update: Update, context: FieldbotContext) -> None:
    """A button of the directive form. The tap is answered after what it did is stored (a
    crash before that reaches the error handler, which says nothing was saved); a choice the
    form did not offer changes nothing and keeps the form."""
    found = await pressed_in_form(
        update, context, callbacks.ComposeChoice, frozenset({"directive", "amend"})
    )
    if found is None:
        return
    query, choice, member, draft = found
    lang = member.language
    data, step = draft.data, Step(draft.step)
    done = True
    if choice.field == "t" and step is Step.TARGET:
        target = target_from_choice(choice.value, data)
        if target == "list":
            async with context.runtime.db.session() as session:
                await drafts.save(
                    session, context.runtime.clock, member.id, draft.kind, Step.UNIT_LIST, data
                )
            await reply_key(update, lang, "compose.ask_list")
        elif target is None:
            done = False
        else:
            await _set_target(update, context, member, data, target)
    elif choice.field == "d" and step is Step.DEADLINE and choice.value in DEADLINE_HOURS:
        when = context.runtime.clock.now() + timedelta(hours=int(choice.value))
        await _set_deadline(update, context, member, data, when)
    elif choice.field == "u" and step is Step.URGENCY and chosen_urgency(choice.value):
        level = chosen_urgency(choice.value) or Urgency.NORMAL
        await _preview(update, context, member, {**data, "urgency": level.value})
    elif choice.field == "n" and step is Step.URGENCY and choice.value == "skip":
        await _drop_number(update, context, member, data)
    elif choice.field == "s" and step is Step.CONFIRM and choice.value in ("send", "cancel"):
        await _submit(update, context, member, data, send=choice.value == "send")
    else:
        done = False
    await query.answer(None if done else t(lang, "input.bad_choice"), show_alert=not done)


def target_from_choice(value: str, data: dict[str, Any]) -> str | None:
    """The target the form offered at ``value`` (``sub``, ``list``, ``l2``, ``g0``), or None."""
    if value in ("sub", "list"):
        return "subtree" if value == "sub" else "list"
    kind, index = value[:1], value[1:]
    options = data.get("levels" if kind == "l" else "groups", [])
    if kind not in ("l", "g"):
        return None
    try:
        position = parse_int(index, low=0, high=len(options) - 1)
    except ParseError:
        return None
    return f"{'level' if kind == 'l' else 'group'}:{options[position]}"


async def _preview(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any]
) -> None:
    runtime, lang = context.runtime, member.language
    try:
        async with runtime.db.session() as session:
            seen = await directives.preview(
                session,
                member.actor,
                Target.parse(data["target"]),
                runtime.config.outbox.rate_per_second,
            )
            await drafts.save(session, runtime.clock, member.id, "directive", Step.CONFIRM, data)
    except (DirectiveError, NotAllowed) as error:
        await reply(update, explain(lang, error) + "\n" + t(lang, "input.directive_not_sent"))
        return
    more = seen.unit_count - len(seen.sample_units)
    units = ", ".join(seen.sample_units) + (t(lang, "compose.and_more", count=more) if more else "")
    await reply_key(
        update,
        lang,
        "compose.preview",
        text=data["text"],
        units=seen.unit_count,
        members=seen.member_count,
        unreachable=t(lang, "rollup.unreachable_people", count=seen.unreachable_count)
        if seen.unreachable_count
        else "",
        names=units,
        seconds=max(1, round(seen.seconds)),
        when=local(datetime.fromisoformat(data["ack_by"]), runtime.config.tz),
        urgency=level_label(lang, draft_urgency(data)),
        number=t(lang, "urgency.preview_number", number=data["number"])
        if data.get("number")
        else "",
        nobody=nobody_line(lang, {"nobody": len(seen.nobody), "nobody_names": seen.nobody[:3]}),
        buttons=confirm_buttons(lang),
    )


async def _submit(
    update: Update, context: FieldbotContext, member: MemberView, data: dict[str, Any], send: bool
) -> None:
    runtime, lang = context.runtime, member.language
    if not send:
        async with runtime.db.session() as session:
            await drafts.discard(session, member.id)
        await reply_key(update, lang, "compose.cancelled")
        return
    try:
        async with runtime.db.session() as session:
            sent = await directives.send_directive(
                session,
                runtime.clock,
                member.actor,
                text=data["text"],
                target=Target.parse(data["target"]),
                ack_by=datetime.fromisoformat(data["ack_by"]),
                urgency=draft_urgency(data),
                document_number=data.get("number"),
                tz=runtime.config.tz,
                document_file_id=data.get("document_file_id"),
                quiet=QuietHours.of(runtime.config),
            )
            await drafts.discard(session, member.id)
    except (DirectiveError, NotAllowed) as error:
        # Checked again at Send: the member may have been demoted or moved since the form
        # opened. The form stays, so nothing typed is lost.
        await reply(update, explain(lang, error) + "\n" + t(lang, "input.directive_not_sent"))
        return
    runtime.wake_sender()
    await reply(
        update,
        t(
            lang,
            "compose.sent",
            id=sent.directive_id,
            units=sent.unit_count,
            members=sent.member_count,
        )
        + held_line(lang, sent, runtime.config.tz),
    )


def register(app: FieldbotApp) -> None:
    app.add_handler(CommandHandler("directive", start))
    app.add_handler(CommandHandler("cancel", cancel))
    app.add_handler(CallbackQueryHandler(on_choice, pattern=r"^cp:"))
