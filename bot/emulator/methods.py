"""Bot API methods as the emulator implements them, validating what Telegram validates."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.emulator.world import CallbackAnswer, SimChat, SimMessage

if TYPE_CHECKING:
    from bot.emulator.server import BotApiEmulator

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_PHOTO = 10 * 1024 * 1024
MAX_DOCUMENT = 50 * 1024 * 1024

Handler = Callable[["BotApiEmulator", dict[str, Any]], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


def _error(code: int, description: str) -> Exception:
    from bot.emulator.server import ApiError

    return ApiError(code, description)


def _check_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
        raise _error(400, "Bad Request: unsupported reply_markup")
    for row in markup["inline_keyboard"]:
        for button in row:
            if not button.get("text"):
                raise _error(400, "Bad Request: button text is empty")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                raise _error(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _check_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise _error(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise _error(400, "Bad Request: message is too long")
    return text


def _check_caption(caption: Any) -> str | None:
    if caption is not None and len(str(caption)) > MAX_CAPTION:
        raise _error(400, "Bad Request: message caption is too long")
    return caption


def _chat(emu: BotApiEmulator, params: dict[str, Any]) -> SimChat:
    chat = emu.world.chat(params.get("chat_id", 0))
    if chat is None:
        raise _error(400, "Bad Request: chat not found")
    return chat


async def _delivered(emu: BotApiEmulator, message: SimMessage, event: str) -> dict[str, Any]:
    emu.world.emit(event, {"message": message})
    await emu.world.notify_changed()
    return emu.world.message_api(message, emu.world.bot_user())


@method("getMe")
async def get_me(emu: BotApiEmulator, params: dict[str, Any]) -> Any:
    return emu.world.bot_user()


@method("deleteWebhook")
async def delete_webhook(emu: BotApiEmulator, params: dict[str, Any]) -> Any:
    return True


@method("setMyCommands")
async def set_my_commands(emu: BotApiEmulator, params: dict[str, Any]) -> Any:
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise _error(400, "Bad Request: commands must be a list of at most 100")
    for command in commands:
        name, description = command.get("command", ""), command.get("description", "")
        if not (1 <= len(name) <= 32 and name.islower()) or not 1 <= len(description) <= 256:
            raise _error(400, "Bad Request: BOT_COMMAND_INVALID")
    scope = params.get("scope") or {"type": "default"}
    key = f"{scope.get('type')}:{scope.get('chat_id', '')}:{params.get('language_code', '')}"
    emu.world.commands[key] = commands
    await emu.world.notify_changed()  # tests wait for the menu as for a message
    return True


@method("getUpdates")
async def get_updates(emu: BotApiEmulator, params: dict[str, Any]) -> Any:
    world = emu.world
    offset = int(params.get("offset") or 0)
    limit = max(1, min(100, int(params.get("limit") or 100)))
    timeout = float(params.get("timeout") or 0)
    if offset:
        world.updates = [u for u in world.updates if u["update_id"] >= offset]
    if not world.updates and timeout > 0:
        world.new_update.clear()
        try:
            await asyncio.wait_for(world.new_update.wait(), timeout)
        except TimeoutError:
            return []
    return world.updates[:limit]


@method("sendMessage")
async def send_message(emu: BotApiEmulator, params: dict[str, Any]) -> Any:
    chat = _chat(emu, params)
    text = _check_text(params.get("text"))
    markup = _check_markup(params.get("reply_markup"))
    message = emu.world.add_message(chat, True, text=text, reply_markup=markup)
    return await _delivered(emu, message, "bot_message")


@method("sendDocument")
async def send_document(emu: BotApiEmulator, params: dict[str, Any]) -> Any:
    chat = _chat(emu, params)
    caption = _check_caption(params.get("caption"))
    upload = params.get("document")
    if isinstance(upload, dict):
        if upload["size"] > MAX_DOCUMENT:
            raise _error(413, "Request Entity Too Large")
        document = {
            "file_id": f"doc{chat.next_message_id}",
            "file_unique_id": "d",
            "file_name": upload["filename"],
            "file_size": upload["size"],
        }
    elif isinstance(upload, str) and upload:
        document = {"file_id": upload, "file_unique_id": "d"}
    else:
        raise _error(400, "Bad Request: there is no document in the request")
    message = emu.world.add_message(
        chat,
        True,
        caption=caption,
        document=document,
        reply_markup=_check_markup(params.get("reply_markup")),
    )
    return await _delivered(emu, message, "bot_message")


@method("sendPhoto")
async def send_photo(emu: BotApiEmulator, params: dict[str, Any]) -> Any:
    chat = _chat(emu, params)
    caption = _check_caption(params.get("caption"))
    upload = params.get("photo")
    if isinstance(upload, dict):
        if upload["size"] > MAX_PHOTO:
            raise _error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        size = upload["size"]
    elif isinstance(upload, str) and upload:
        size = 0
    else:
        raise _error(400, "Bad Request: there is no photo in the request")
    photo = [
        {
            "file_id": f"photo{chat.next_message_id}",
            "file_unique_id": "p",
            "width": 320,
            "height": 320,
            "file_size": size,
        }
    ]
    message = emu.world.add_message(
        chat,
        True,
        caption=caption,
        photo=photo,
        reply_markup=_check_markup(params.get("reply_markup")),
    )
    return await _delivered(emu, message, "bot_message")


def _editable(emu: BotApiEmulator, params: dict[str, Any]) -> SimMessage:
    chat = _chat(emu, params)
    message = chat.messages.get(params.get("message_id", 0))
    if message is None or not message.from_bot:
        raise _error(400, "Bad Request: message to edit not found")
    return message


@method("editMessageText")
async def edit_message_text(emu: BotApiEmulator, params: dict[str, Any]) -> Any:
    message = _editable(emu, params)
    text = _check_text(params.get("text"))
    markup = _check_markup(params.get("reply_markup"))
    if message.text == text and message.reply_markup == markup:
        raise _error(400, "Bad Request: message is not modified")
    message.text, message.reply_markup = text, markup
    message.edits += 1
    return await _delivered(emu, message, "bot_edit")


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(emu: BotApiEmulator, params: dict[str, Any]) -> Any:
    message = _editable(emu, params)
    markup = _check_markup(params.get("reply_markup"))
    if message.reply_markup == markup:
        raise _error(400, "Bad Request: message is not modified")
    message.reply_markup = markup
    message.edits += 1
    return await _delivered(emu, message, "bot_edit")


@method("answerCallbackQuery")
async def answer_callback_query(emu: BotApiEmulator, params: dict[str, Any]) -> Any:
    query_id = str(params.get("callback_query_id", ""))
    if query_id not in emu.world.pending_queries:
        raise _error(
            400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
        )
    text = params.get("text")
    if text is not None and len(text) > 200:
        raise _error(400, "Bad Request: MESSAGE_TOO_LONG")
    emu.world.pending_queries.discard(query_id)
    answer = CallbackAnswer(
        text, str(params.get("show_alert", "")).lower() == "true", asyncio.get_running_loop().time()
    )
    emu.world.answers[query_id] = answer
    emu.world.emit("answer", {"query_id": query_id, "answer": answer})
    await emu.world.notify_changed()
    return True
