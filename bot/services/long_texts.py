"""Long texts the member's phone split into messages, read as the one text they wrote.

Telegram carries at most 4,096 characters a message; a phone sends a longer text as several
messages a moment apart, every one but the last cut near that limit (between words). A part
that long is held here until the rest arrives; the parts are then joined in the order they
were written and the text goes on as one message, so a form, a command or a note sees all of
it. The parts wait in the database, so a restart in between loses none of them.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories.held_parts import HeldPartRepository

LIMIT = 4096  # the most characters Telegram carries in one message
PART = 3900  # a message this long may have been cut by the phone: wait for what follows


def may_continue(text: str) -> bool:
    """Whether a message is long enough to be a part the phone cut from a longer text."""
    return len(text) >= PART


def joined(texts: list[str]) -> str:
    """The parts as one text. A phone cuts between words and may drop the space where it
    cut: where neither side of a seam has one, a part cut short of the limit gets a space
    back; a part cut at the limit exactly was cut mid-word and is joined as it is."""
    whole = texts[0] if texts else ""
    for previous, text in zip(texts, texts[1:], strict=False):
        seam = previous[-1:].isspace() or text[:1].isspace()
        whole += text if seam or len(previous) >= LIMIT else " " + text
    return whole


def joined_update(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The first part's update carrying the whole text: its message id, its date (when the
    member wrote it) and its entities (a command at the start stays a command)."""
    update = copy.deepcopy(parts[0])
    texts = [part["message"]["text"] for part in parts]
    update["message"]["text"] = joined(texts)
    return update


async def hold(
    session: AsyncSession, chat_id: int, message_id: int, update: dict[str, Any], at: datetime
) -> None:
    await HeldPartRepository(session).hold(chat_id, message_id, update, at)


async def take(session: AsyncSession, chat_id: int) -> list[dict[str, Any]]:
    """The chat's parts in order, no longer held."""
    return await HeldPartRepository(session).take(chat_id)


async def waiting(session: AsyncSession) -> list[int]:
    """The chats whose parts wait (at start-up: those a stop left behind)."""
    return await HeldPartRepository(session).chats()
