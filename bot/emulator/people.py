"""Simulated people: they type text and commands and press inline buttons, as phones do."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.emulator.world import CallbackAnswer, SimChat, SimMessage, SimUser

if TYPE_CHECKING:
    from bot.emulator.server import BotApiEmulator


MAX_TEXT = 4096  # characters Telegram carries in one message
PATIENCE = 30.0  # seconds; only a failing test waits this long on a busy machine


def phone_parts(text: str, limit: int = MAX_TEXT) -> list[str]:
    """A long text cut as a phone cuts it: at the last space or line break within the limit
    (that character dropped), or at the limit itself when a part has none."""
    parts = []
    while len(text) > limit:
        cut = max(text.rfind(" ", 0, limit + 1), text.rfind("\n", 0, limit + 1))
        if cut <= 0:
            parts.append(text[:limit])
            text = text[limit:]
        else:
            parts.append(text[:cut])
            text = text[cut + 1 :]
    return [*parts, text]


class Person:
    """One Telegram user talking to the bot in a private chat."""

    def __init__(self, emulator: BotApiEmulator, user: SimUser) -> None:
        self.emulator = emulator
        self.user = user
        self._seen = 0  # how many bot messages this person has already read

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.user.first_name, self.user.last_name) if p)

    @property
    def chat(self):  # type: ignore[no-untyped-def]
        return self.emulator.world.chats[self.user.id]

    def block_bot(self, blocked: bool = True) -> None:
        self.user.blocked_bot = blocked

    def send(self, text: str, written_at: float | None = None) -> SimMessage:
        """Type ``text`` (a command if it starts with /) and send it.

        ``written_at`` (epoch seconds) is when the phone says it was written: a message that
        waited for coverage arrives later than that. A text longer than Telegram carries goes
        as a phone sends it: in parts, one message each (the last one is returned).
        """
        parts = phone_parts(text)
        for part in parts[:-1]:
            self._post(written_at, text=part)
        return self._post(written_at, text=parts[-1])

    def send_document(
        self,
        filename: str,
        caption: str | None = None,
        *,
        size: int = 1024,
        mime_type: str = "application/pdf",
    ) -> SimMessage:
        """Attach a file (with an optional caption), as from the phone's paperclip."""
        document = {
            "file_id": f"upload-{self.user.id}-{len(self.chat.messages)}",
            "file_unique_id": f"u{self.user.id}-{len(self.chat.messages)}",
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": size,
        }
        return self._post(None, caption=caption, document=document)

    def send_photo(self, caption: str | None = None, *, size: int = 200_000) -> SimMessage:
        """Send a photo from the camera (Telegram offers it in a few sizes)."""
        file_id = f"photo-{self.user.id}-{len(self.chat.messages)}"
        sizes = [
            {
                "file_id": f"{file_id}-s",
                "file_unique_id": f"{file_id}-s",
                "width": 90,
                "height": 90,
                "file_size": size // 20,
            },
            {
                "file_id": file_id,
                "file_unique_id": file_id,
                "width": 1280,
                "height": 960,
                "file_size": size,
            },
        ]
        return self._post(None, caption=caption, photo=sizes)

    def send_in_group(self, group: SimChat, text: str) -> SimMessage:
        """Post ``text`` in a group the bot is in (a command if it starts with /)."""
        return self._post(None, chat=group, text=text)

    def edit(self, message: SimMessage, text: str) -> SimMessage:
        """Edit one of this person's own messages, as Telegram allows for 48 hours and more.

        Telegram sends the whole message again as ``edited_message``, with its original date.
        """
        if message.from_bot:
            raise ValueError("people can only edit their own messages")
        world = self.emulator.world
        message.text = text
        message.edits += 1
        world.emit("user_edit", {"person": self, "message": message})
        world.push_update("edited_message", world.message_api(message, self.user.to_api()))
        return message

    def _post(
        self, written_at: float | None, chat: SimChat | None = None, **fields: Any
    ) -> SimMessage:
        world = self.emulator.world
        message = world.add_message(chat or self.chat, False, **fields)
        if written_at is not None:
            message.date = int(written_at)
        world.emit("user_message", {"person": self, "message": message})
        world.push_update("message", world.message_api(message, self.user.to_api()))
        return message

    def bot_messages(self) -> list[SimMessage]:
        return [m for m in self.chat.messages.values() if m.from_bot]

    def last(self) -> SimMessage:
        messages = self.bot_messages()
        if not messages:
            raise AssertionError(f"{self.name} has no message from the bot")
        return messages[-1]

    async def wait_until(self, condition: Callable[[], bool], within: float = PATIENCE) -> None:
        world = self.emulator.world
        async with asyncio.timeout(within), world.changed:
            await world.changed.wait_for(condition)

    async def next_message(self, within: float = PATIENCE) -> SimMessage:
        """The next bot message this person has not read yet, waiting for it if needed."""
        try:
            await self.wait_until(lambda: len(self.bot_messages()) > self._seen, within)
        except TimeoutError:
            raise AssertionError(f"{self.name} got no new message within {within}s") from None
        message = self.bot_messages()[self._seen]
        self._seen += 1
        return message

    async def ask(self, text: str, within: float = PATIENCE) -> SimMessage:
        """Send ``text`` and return the bot's next message."""
        self.read_all()
        self.send(text)
        return await self.next_message(within)

    def read_all(self) -> None:
        self._seen = len(self.bot_messages())

    def unread(self) -> list[SimMessage]:
        """Bot messages that arrived since this person last looked (and marks them read)."""
        fresh = self.bot_messages()[self._seen :]
        self._seen += len(fresh)
        return fresh

    def press_data(self, message: SimMessage, data: str) -> str:
        """Send a callback query with any data — a modified client can forge it."""
        world = self.emulator.world
        query_id = world.new_query_id()
        world.emit("user_press", {"person": self, "message": message, "data": data})
        world.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.user.to_api(),
                "chat_instance": str(self.user.id),
                "message": world.message_api(message, world.bot_user()),
                "data": data,
            },
        )
        return query_id

    async def press(
        self, message: SimMessage, label: str, within: float = PATIENCE
    ) -> CallbackAnswer:
        """Press the button whose text contains ``label`` and wait for the bot's answer."""
        for button in message.buttons():
            if label in button["text"]:
                return await self.await_answer(
                    self.press_data(message, button["callback_data"]), within
                )
        labels = [b["text"] for b in message.buttons()]
        raise AssertionError(f"no button {label!r} on message {message.message_id}: {labels}")

    async def await_answer(self, query_id: str, within: float = PATIENCE) -> CallbackAnswer:
        answers = self.emulator.world.answers
        try:
            await self.wait_until(lambda: query_id in answers, within)
        except TimeoutError:
            raise AssertionError(f"callback {query_id} was not answered in {within}s") from None
        return answers[query_id]

    def commands(self) -> list[str]:
        """The command menu the bot set for this person's chat."""
        world = self.emulator.world
        for key in (f"chat:{self.user.id}:", "default::"):
            if key in world.commands:
                return [c["command"] for c in world.commands[key]]
        return []
