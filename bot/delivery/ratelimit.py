"""Pacing for the bot's direct calls (replies to a member's own message or tap).

Direct replies share the outbox's overall token bucket and per-chat slots, so the two never
add up to more than Telegram allows. A 429 is waited out and retried, not dropped. The
outbox passes ``rate_limit_args={"paced": True}``: it has already paced its own calls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.pacing import ChatSpacing, Pacer

log = logging.getLogger(__name__)

LIMITED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "sendMediaGroup",
    }
)
PacedArgs = dict[str, Any]


class PacedRateLimiter(BaseRateLimiter[PacedArgs]):
    def __init__(self, pacer: Pacer, spacing: ChatSpacing, max_retries: int = 5) -> None:
        self.pacer = pacer
        self.spacing = spacing
        self.max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: PacedArgs | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in LIMITED_METHODS or (rate_limit_args or {}).get("paced"):
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        from bot.delivery.outbox import retry_after_seconds

        for attempt in range(self.max_retries + 1):
            if isinstance(chat_id, int):
                wait = self.spacing.reserve(chat_id) - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            await self.pacer.acquire()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                if attempt == self.max_retries:
                    raise
                log.warning(
                    "direct %s hit a flood ban of %.0fs; retrying after it", endpoint, seconds
                )
                self.pacer.ban(seconds)
        raise AssertionError("unreachable")  # pragma: no cover
