"""A long text the phone split, read whole (handler group -1, right after the guard).

A message near Telegram's 4,096 characters may be the first part of a longer text: it is held
(``bot.services.long_texts``) and the bot waits ``WINDOW`` for what follows. The next text of
the chat joins it; a short one ends the text, and the whole goes back into the application
as one update, seen by every handler as if the member had sent it in one message. A part that
nothing follows goes on alone when the window closes; parts a stop left waiting go on at the
next start. Updates are handled concurrently, but a chat's parts reach this handler in the
order Telegram sent them: each marks its chat as held before its first ``await``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import MessageEntity, Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.context import FieldbotApp, FieldbotContext, runtime_of
from bot.services import long_texts

GROUP = -1  # after the guard (-2), before every feature (0)
WINDOW = 3.0  # seconds a phone takes, at most, between the parts of one text
JOINER_KEY = "long_texts"


def _starts_command(update: Update) -> bool:
    message = update.message
    return message is not None and any(
        e.type == MessageEntity.BOT_COMMAND and e.offset == 0 for e in message.entities
    )


class Joiner:
    """The chats with parts held, their windows, and the joined updates on their way."""

    def __init__(self, app: FieldbotApp) -> None:
        self.app = app
        self.window = WINDOW
        self._held: set[int] = set()
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._joined: set[tuple[int, int]] = set()  # (chat, message) updates we put back
        self._lock = asyncio.Lock()  # parts are rare: one lock for all chats is enough
        self._starting = False  # start-up puts texts in the queue before the application runs

    async def on_update(self, update: Update, context: FieldbotContext) -> None:
        message = update.message
        if message is None or message.text is None:
            return
        chat_id, key = message.chat_id, (message.chat_id, message.message_id)
        if key in self._joined:  # a text we joined, on its way to the features
            self._joined.discard(key)
            return
        part = long_texts.may_continue(message.text)
        if chat_id not in self._held:
            if not part:
                return  # an ordinary message (nearly all of them): no lock, no database
            self._held.add(chat_id)  # before any await: the next part waits for this one
        elif _starts_command(update):  # a new command ends the held text, which goes first
            await self.release(chat_id)
            return
        async with self._lock:
            at = runtime_of(self.app).clock.now()
            async with runtime_of(self.app).db.session() as session:
                await long_texts.hold(session, chat_id, message.message_id, update.to_dict(), at)
        if part:
            self._arm(chat_id)
        else:
            await self.release(chat_id)
        raise ApplicationHandlerStop

    def _arm(self, chat_id: int) -> None:
        if (timer := self._timers.pop(chat_id, None)) is not None:
            timer.cancel()
        self._timers[chat_id] = asyncio.get_running_loop().call_later(
            self.window, lambda: self.app.create_task(self.release(chat_id))
        )

    async def release(self, chat_id: int) -> None:
        """Send the chat's held parts on as one text (nothing, if another call did)."""
        async with self._lock:
            if (timer := self._timers.pop(chat_id, None)) is not None:
                timer.cancel()
            self._held.discard(chat_id)
            if not (self.app.running or self._starting):
                return  # stopping: the queue takes nothing more; the parts wait for the next start
            async with runtime_of(self.app).db.session() as session:
                parts = await long_texts.take(session, chat_id)
            if parts:
                await self._put(long_texts.joined_update(parts))

    async def release_all(self) -> None:
        """At start-up: parts a stop left waiting go on (their windows have closed)."""
        async with runtime_of(self.app).db.session() as session:
            chats = await long_texts.waiting(session)
        self._starting = True
        try:
            for chat_id in chats:
                await self.release(chat_id)
        finally:
            self._starting = False

    def stop(self) -> None:
        """No window closes after the application stops; the parts wait in the database."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._held.clear()

    async def _put(self, data: dict[str, Any]) -> None:
        update = Update.de_json(data, self.app.bot)
        assert update.message is not None  # noqa: S101 - held parts are messages
        self._joined.add((update.message.chat_id, update.message.message_id))
        await self.app.update_queue.put(update)


def joiner(app: FieldbotApp) -> Joiner:
    found: Joiner = app.bot_data[JOINER_KEY]
    return found


def register(app: FieldbotApp) -> None:
    app.bot_data[JOINER_KEY] = handler = Joiner(app)
    app.add_handler(TypeHandler(Update, handler.on_update), group=GROUP)
