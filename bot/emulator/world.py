"""What the emulator remembers: simulated users, chats, messages and pending updates."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOT_ID = 7_000_000_001


@dataclass
class SimUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str = "vi"
    blocked_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class SimMessage:
    """A message in a chat, as it stands now (edits change it in place)."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str | None = None
    caption: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    edits: int = 0

    @property
    def body(self) -> str:
        return self.text if self.text is not None else (self.caption or "")

    def buttons(self) -> list[dict[str, Any]]:
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]


@dataclass
class SimChat:
    id: int
    type: str = "private"
    title: str | None = None
    messages: dict[int, SimMessage] = field(default_factory=dict)
    next_message_id: int = 1


@dataclass
class CallbackAnswer:
    text: str | None
    show_alert: bool
    at: float


Listener = Callable[[str, dict[str, Any]], None]


class World:
    """Users, chats and the update queue; also notifies listeners (the demo transcript)."""

    def __init__(self, bot_username: str) -> None:
        self.bot_username = bot_username
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._group_ids = itertools.count(-1_000_000_001, -1)  # groups have negative ids
        self.new_update = asyncio.Event()
        self.changed = asyncio.Condition()
        self.answers: dict[str, CallbackAnswer] = {}
        self.pending_queries: set[str] = set()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.listeners: list[Listener] = []
        self.clock: Callable[[], float] = time.time  # the phones' clock (tests may shift it)

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "fieldbot",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def emit(self, event: str, data: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(event, data)

    async def notify_changed(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def add_user(self, user: SimUser) -> SimUser:
        self.users[user.id] = user
        self.chats.setdefault(user.id, SimChat(user.id))
        return user

    def add_group(self, title: str, kind: str = "supergroup") -> SimChat:
        """A group (or ``"channel"``) the bot was added to; people post in it by name."""
        chat = SimChat(next(self._group_ids), kind, title)
        self.chats[chat.id] = chat
        return chat

    def chat(self, chat_id: int) -> SimChat | None:
        return self.chats.get(chat_id)

    def chat_api(self, chat: SimChat) -> dict[str, Any]:
        if chat.type == "private":
            user = self.users[chat.id]
            data = {"id": chat.id, "type": "private", "first_name": user.first_name}
            if user.username:
                data["username"] = user.username
            return data
        return {"id": chat.id, "type": chat.type, "title": chat.title or str(chat.id)}

    def add_message(self, chat: SimChat, from_bot: bool, **fields: Any) -> SimMessage:
        message = SimMessage(chat.next_message_id, chat.id, from_bot, int(self.clock()), **fields)
        chat.messages[message.message_id] = message
        chat.next_message_id += 1
        return message

    def message_api(self, message: SimMessage, sender: dict[str, Any]) -> dict[str, Any]:
        chat = self.chats[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": sender,
            "chat": self.chat_api(chat),
            "date": message.date,
        }
        if message.text is not None:
            data["text"] = message.text
            if not message.from_bot and message.text.startswith("/"):
                command = message.text.split()[0]
                data["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if message.caption is not None:
            data["caption"] = message.caption
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.document:
            data["document"] = message.document
        if message.photo:
            data["photo"] = message.photo
        if message.edits:
            data["edit_date"] = int(self.clock())
        return data

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self.updates.append(update)
        self.new_update.set()
        return update

    def new_query_id(self) -> str:
        query_id = f"q{next(self._query_ids)}"
        self.pending_queries.add(query_id)
        return query_id
