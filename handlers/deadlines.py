"""✏️ Dời hạn on ``/task N``: type (or pick) the new time, see old → new, confirm.

The form is a draft in the database. Its buttons carry the task id and, on the confirming one,
a one-time token kept in the draft: a button from an earlier proposal, another task's, or one
made up by a client finds no matching draft and changes nothing. The service checks the
member's rights again when the move is confirmed.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import FieldbotApp, FieldbotContext
from bot.core.i18n import t
from bot.core.parsing import MAX_ID, ParseError, parse_int
from bot.core.timefmt import local
from bot.services import deadlines, drafts
from bot.services.authz import NotAllowed
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.services.notify import Button
from bot.services.quiet import QuietHours
from handlers.common import current_member, explain, language, reply

FORM = "deadline"
LATER_DAYS = (1, 3, 7)  # "Thêm N ngày" after the current deadline
_ID = "[1-9][0-9]{0,9}"
_DATA = {  # verb -> what follows the task id
    "s": re.compile(rf"dl:s:(?P<task>{_ID})"),
    "n": re.compile(rf"dl:n:(?P<task>{_ID})"),
    "l": re.compile(rf"dl:l:(?P<task>{_ID}):(?P<extra>[1-9][0-9]?)"),
    "y": re.compile(rf"dl:y:(?P<task>{_ID}):(?P<extra>[0-9a-f]{{8}})"),
}


class Step(IntEnum):
    ASK = 1
    CONFIRM = 2


@dataclass(frozen=True)
class Press:
    """A button of this form: s(tart), l(ater by days), y(es, with the token), n(o)."""

    verb: str
    task_id: int
    extra: str = ""


def encode(press: Press) -> str:
    return f"dl:{press.verb}:{press.task_id}" + (f":{press.extra}" if press.extra else "")


def decode(data: str | None) -> Press | None:
    """The press ``data`` encodes, or None for anything this form did not write."""
    if not isinstance(data, str) or len(data) > 64:
        return None
    verb = data[3:4] if data.startswith("dl:") else ""
    match = _DATA[verb].fullmatch(data) if verb in _DATA else None
    if match is None:
        return None
    try:
        task_id = parse_int(match["task"], low=1, high=MAX_ID)
    except ParseError:
        return None
    return Press(verb, task_id, match.groupdict().get("extra") or "")


def move_button(lang: str, task_id: int) -> Button:
    """The ✏️ Dời hạn button of a task's view."""
    return Button(t(lang, "deadline.button"), encode(Press("s", task_id)))


def _later_buttons(lang: str, task_id: int, old: datetime, now: datetime) -> list[list[Button]]:
    later = [
        Button(t(lang, "deadline.later", days=days), encode(Press("l", task_id, str(days))))
        for days in LATER_DAYS
        if old + timedelta(days=days) > now
    ]
    cancel = [Button(t(lang, "compose.cancel"), encode(Press("n", task_id)))]
    return [later, cancel] if later else [cancel]


async def on_button(update: Update, context: FieldbotContext) -> None:
    query = update.callback_query
    assert query is not None  # noqa: S101 - registered for callback queries only
    press, member = decode(query.data), await current_member(update, context)
    if press is None or member is None:
        await query.answer(t(language(member, context), "errors.stale_button"))
        return
    if press.verb == "s":
        await _start(update, context, member, press.task_id)
        return
    async with context.runtime.db.session() as session:
        draft = await drafts.current(session, member.id)
    step = _step_of(draft, press)
    if draft is None or step is None:
        await query.answer(t(member.language, "errors.stale_button"))
        return
    if press.verb == "n":
        async with context.runtime.db.session() as session:
            await drafts.discard(session, member.id)
        await query.answer()
        old = local(datetime.fromisoformat(draft.data["old"]), context.runtime.config.tz)
        await reply(update, t(member.language, "deadline.cancelled", id=press.task_id, old=old))
    elif press.verb == "l":
        await query.answer()
        await _propose(update, context, member, draft, later_by=timedelta(days=int(press.extra)))
    else:
        await _confirm(update, context, member, draft)


def _step_of(draft: drafts.DraftView | None, press: Press) -> Step | None:
    """The step of the open form this press belongs to; None if it belongs to none."""
    if draft is None or draft.kind != FORM or draft.data.get("task_id") != press.task_id:
        return None
    step = Step(draft.step)
    if press.verb == "l" and (step is not Step.ASK or int(press.extra) not in LATER_DAYS):
        return None
    if press.verb == "y" and (step is not Step.CONFIRM or draft.data.get("token") != press.extra):
        return None
    return step


async def _start(
    update: Update, context: FieldbotContext, member: MemberView, task_id: int
) -> None:
    runtime, lang = context.runtime, member.language
    query = update.callback_query
    assert query is not None  # noqa: S101 - a button started it
    try:
        async with runtime.db.session() as session:
            target = await deadlines.move_target(session, member.actor, task_id)
            data = {"task_id": task_id, "old": target.deadline.isoformat()}
            await drafts.save(session, runtime.clock, member.id, FORM, Step.ASK, data)
    except (ServiceError, NotAllowed) as error:
        await query.answer(explain(lang, error), show_alert=True)
        return
    await query.answer()
    text = t(
        lang,
        "deadline.ask",
        id=task_id,
        title=target.title,
        old=local(target.deadline, runtime.config.tz),
    )
    await reply(update, text, _later_buttons(lang, task_id, target.deadline, runtime.clock.now()))


async def on_input(
    update: Update, context: FieldbotContext, member: MemberView, draft: drafts.DraftView
) -> None:
    """The new time, typed (while asked, or instead of confirming the one shown)."""
    message = update.effective_message
    assert message is not None  # noqa: S101 - a message handler always has one
    await _propose(update, context, member, draft, text=message.text or message.caption or "")


async def _propose(
    update: Update,
    context: FieldbotContext,
    member: MemberView,
    draft: drafts.DraftView,
    *,
    text: str | None = None,
    later_by: timedelta | None = None,
) -> None:
    runtime, lang, tz = context.runtime, member.language, context.runtime.config.tz
    task_id = int(draft.data["task_id"])
    try:
        async with runtime.db.session() as session:
            proposal = await deadlines.propose(
                session,
                member.actor,
                task_id,
                runtime.clock.now(),
                tz,
                text=text,
                later_by=later_by,
            )
            token = secrets.token_hex(4)
            data: dict[str, Any] = {
                "task_id": task_id,
                "old": proposal.old.isoformat(),
                "new": proposal.new.isoformat(),
                "offset": proposal.event_offset,
                "token": token,
            }
            await drafts.save(session, runtime.clock, member.id, FORM, Step.CONFIRM, data)
    except (ServiceError, NotAllowed) as error:
        await reply(update, explain(lang, error) + "\n" + t(lang, "deadline.try_again"))
        return
    rows = [
        t(
            lang,
            "deadline.confirm",
            id=task_id,
            title=proposal.title,
            old=local(proposal.old, tz),
            new=local(proposal.new, tz),
        ),
        t(lang, "deadline.confirm_units", count=proposal.pending)
        if proposal.pending
        else t(lang, "deadline.confirm_nobody"),
    ]
    buttons = [
        [
            Button(t(lang, "deadline.confirm_button"), encode(Press("y", task_id, token))),
            Button(t(lang, "compose.cancel"), encode(Press("n", task_id))),
        ]
    ]
    await reply(update, "\n".join(rows), buttons)


async def _confirm(
    update: Update, context: FieldbotContext, member: MemberView, draft: drafts.DraftView
) -> None:
    query = update.callback_query
    assert query is not None  # noqa: S101 - a button confirmed it
    runtime, lang, tz = context.runtime, member.language, context.runtime.config.tz
    task_id = int(draft.data["task_id"])
    offset = draft.data.get("offset")
    try:
        async with runtime.db.session() as session:
            moved = await deadlines.move_deadline(
                session,
                runtime.clock,
                member.actor,
                task_id,
                datetime.fromisoformat(draft.data["new"]),
                expected_old=datetime.fromisoformat(draft.data["old"]),
                event_offset=offset if isinstance(offset, int) else None,
                tz=tz,
                quiet=QuietHours.of(runtime.config),
            )
            await drafts.discard(session, member.id)
    except (ServiceError, NotAllowed) as error:
        async with runtime.db.session() as session:  # the form ends: nothing was changed
            await drafts.discard(session, member.id)
        await query.answer(explain(lang, error)[:200], show_alert=True)
        return
    runtime.wake_sender()
    await query.answer(t(lang, "deadline.done_short"))
    new, old = local(moved.new, tz), local(moved.old, tz)
    if moved.units:
        text = t(
            lang,
            "deadline.done",
            id=task_id,
            new=new,
            old=old,
            units=moved.units,
            members=moved.members,
        )
    else:
        text = t(lang, "deadline.done_nobody", id=task_id, new=new, old=old)
    if moved.held_until is not None:
        text += "\n" + t(lang, "deadline.held", when=local(moved.held_until, tz))
    await reply(update, text)


def register(app: FieldbotApp) -> None:
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^dl:"))
