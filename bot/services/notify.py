"""Writing notifications to the outbox, rendered in each recipient's language.

Nothing here talks to Telegram: a notification is a row that the outbox sender delivers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import t
from bot.services.commands import commands_for
from storage.models import Member, MemberStatus, OutboxMessage, OutboxStatus, Role
from storage.repositories.outbox import OutboxRepository


class Priority(IntEnum):
    """Lower goes first: a reply to someone's own action never waits behind a broadcast."""

    REPLY = 0
    URGENT = 10
    NORMAL = 100
    BULK = 200
    LOW = 300  # tidying up (e.g. removing buttons from copies) waits for broadcasts


BUZZ_GAP = timedelta(minutes=1)  # between two routine messages to one person


@dataclass(frozen=True)
class Button:
    label: str
    callback_data: str


Keyboard = Sequence[Sequence[Button]]


class Addressee(Protocol):
    """Who a copy goes to: a member, or just the columns of one (a large sweep)."""

    @property
    def id(self) -> int: ...

    @property
    def chat_id(self) -> int: ...


@dataclass(frozen=True)
class Copy:
    """One recipient's copy of a broadcast."""

    member: Addressee
    text: str
    keyboard: Keyboard | None
    ref: str | None
    not_before: datetime | None = None  # later than the broadcast's own moment (spacing)


def inline_keyboard(rows: Keyboard) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [{"text": b.label, "callback_data": b.callback_data} for b in row] for row in rows
        ]
    }


class Notifier:
    """Queues Bot API calls for members within the caller's transaction."""

    def __init__(
        self, session: AsyncSession, now: datetime, *, hold_until: datetime | None = None
    ) -> None:
        """``hold_until``: rows less urgent than URGENT wait until then (quiet hours)."""
        self.outbox = OutboxRepository(session)
        self.now = now
        self.hold_until = hold_until

    def _not_before(self, priority: Priority) -> datetime:
        if self.hold_until is not None and priority > Priority.URGENT:
            return max(self.now, self.hold_until)
        return self.now

    def _row(
        self,
        chat_id: int,
        member_id: int | None,
        method: str,
        payload: dict[str, Any],
        *,
        ref: str | None = None,
        priority: Priority = Priority.NORMAL,
        edit_of_id: int | None = None,
    ) -> OutboxMessage:
        row = OutboxMessage(
            chat_id=chat_id,
            member_id=member_id,
            method=method,
            payload=payload,
            ref=ref,
            edit_of_id=edit_of_id,
            priority=int(priority),
            status=OutboxStatus.PENDING,
            attempts=0,
            not_before=self._not_before(priority),
            created_at=self.now,
        )
        self.outbox.add(row)
        return row

    def text(
        self,
        member: Member,
        text: str,
        *,
        keyboard: Keyboard | None = None,
        ref: str | None = None,
        priority: Priority = Priority.NORMAL,
    ) -> OutboxMessage:
        payload: dict[str, Any] = {"chat_id": member.chat_id, "text": text}
        if keyboard:
            payload["reply_markup"] = inline_keyboard(keyboard)
        return self._row(
            member.chat_id, member.id, "sendMessage", payload, ref=ref, priority=priority
        )

    def document(
        self, member: Member, file_id: str, *, priority: Priority = Priority.NORMAL
    ) -> OutboxMessage:
        return self._row(
            member.chat_id,
            member.id,
            "sendDocument",
            {"chat_id": member.chat_id, "document": file_id},
            priority=priority,
        )

    def file(
        self,
        member: Member,
        method: str,
        file_id: str,
        *,
        caption: str | None = None,
        priority: Priority = Priority.NORMAL,
    ) -> OutboxMessage:
        """A photo (``sendPhoto``) or document (``sendDocument``) already on Telegram's servers."""
        field = "photo" if method == "sendPhoto" else "document"
        payload: dict[str, Any] = {"chat_id": member.chat_id, field: file_id}
        if caption:
            payload["caption"] = caption[:1024]
        return self._row(member.chat_id, member.id, method, payload, priority=priority)

    async def texts(self, copies: Sequence[Copy], *, priority: Priority) -> int:
        """Queue many messages in one bulk insert (a broadcast to thousands)."""
        markups: dict[int, dict[str, Any]] = {}
        not_before = self._not_before(priority)
        rows = []
        for copy in copies:
            payload: dict[str, Any] = {"chat_id": copy.member.chat_id, "text": copy.text}
            if copy.keyboard:
                key = id(copy.keyboard)
                if key not in markups:
                    markups[key] = inline_keyboard(copy.keyboard)
                payload["reply_markup"] = markups[key]
            rows.append(
                {
                    "chat_id": copy.member.chat_id,
                    "member_id": copy.member.id,
                    "method": "sendMessage",
                    "payload": payload,
                    "ref": copy.ref,
                    "edit_of_id": None,
                    "priority": int(priority),
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "not_before": max(not_before, copy.not_before or not_before),
                    "created_at": self.now,
                }
            )
        await self.outbox.insert_many(rows)
        return len(rows)

    def message(
        self,
        member: Member,
        key: str,
        *,
        keyboard: Keyboard | None = None,
        ref: str | None = None,
        priority: Priority = Priority.NORMAL,
        **params: Any,
    ) -> OutboxMessage:
        return self.text(
            member, t(member.language, key, **params), keyboard=keyboard, ref=ref, priority=priority
        )

    async def replace_copies(
        self,
        ref: str,
        render: Callable[[int | None], str],
        priority: Priority = Priority.NORMAL,
        *,
        prefix: bool = False,
    ) -> int:
        """Replace every copy sent under ``ref`` (or every ref starting with it) with final
        text and no buttons.

        ``render(member_id)`` gives the new text for that member's copy. Copies not yet sent
        are rewritten in place; sent ones get an edit queued after them. Returns how many
        copies changed.
        """
        changed = 0
        rows = await (self.outbox.by_ref_prefix(ref) if prefix else self.outbox.by_ref(ref))
        for row in rows:
            if row.method != "sendMessage":
                continue
            text = render(row.member_id)
            if row.status == OutboxStatus.PENDING:
                row.payload = {"chat_id": row.chat_id, "text": text}
            elif row.status in (OutboxStatus.SENDING, OutboxStatus.SENT):
                self._row(
                    row.chat_id,
                    row.member_id,
                    "editMessageText",
                    {"chat_id": row.chat_id, "text": text},
                    ref=f"{row.ref}:edit",
                    priority=priority,
                    edit_of_id=row.id,
                )
            else:
                continue
            changed += 1
        return changed

    async def spaced(self, copies: Sequence[Copy], gap: timedelta = BUZZ_GAP) -> list[Copy]:
        """The copies (routine news), each moved to ``gap`` after its member's latest message
        from the outbox when that falls within ``gap`` of now: the morning's held notice, an
        urgent directive, a digest and a sweep's message to one person come a minute apart,
        not in one burst. (Urgent messages themselves are never moved.)"""
        last = await self.outbox.last_routine(
            [c.member.chat_id for c in copies], self.now, gap, below=Priority.REPLY
        )
        return [
            replace(copy, not_before=last[copy.member.chat_id] + gap)
            if copy.member.chat_id in last
            else copy
            for copy in copies
        ]

    def command_menu(self, member: Member) -> OutboxMessage:
        """The member's own Telegram command menu, in their language, for their role."""
        status = MemberStatus(member.status)
        names = commands_for(Role(member.role), status)
        commands = [
            {"command": n, "description": t(member.language, f"commands.{n}")} for n in names
        ]
        return self._row(
            member.chat_id,
            member.id,
            "setMyCommands",
            {"commands": commands, "scope": {"type": "chat", "chat_id": member.chat_id}},
            priority=Priority.NORMAL,
        )
