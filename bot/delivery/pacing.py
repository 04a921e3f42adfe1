"""Client-side pacing that keeps the bot under Telegram's limits instead of hitting them."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    """A token bucket for the overall rate plus a flood-ban gate shared by all senders."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()
        self.banned_until = 0.0
        self.bans = 0  # how many bans so far: lets a waiter notice one happened meanwhile
        self._lock = asyncio.Lock()

    def ban(self, seconds: float) -> None:
        """Telegram said 429: nothing goes out until the ban ends; then one token, no burst."""
        now = time.monotonic()
        until = now + seconds
        self.bans += 1
        # retry_after is whole seconds, rounded up: a 429 for a request that was already on
        # its way when the ban began names the same ban, ending up to a second "later".
        same_ban = now < self.banned_until and until - self.banned_until < 1.0
        if until > self.banned_until and not same_ban:
            self.banned_until = until
            self.tokens = 1.0  # the first message may go the moment the ban ends
            self.updated = until

    def ban_remaining(self) -> float:
        return max(0.0, self.banned_until - time.monotonic())

    async def acquire(self) -> None:
        """Wait for a ban to end and for a token."""
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self.banned_until:
                    await asyncio.sleep(self.banned_until - now)
                    continue
                self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self.tokens) / self.rate)


class ChatSpacing:
    """Per-chat slots: at most one message per interval to a chat (groups: 20 a minute)."""

    def __init__(self, private_interval: float, group_per_minute: int) -> None:
        self.private_interval = private_interval
        self.group_interval = 60.0 / group_per_minute
        self._free_at: dict[int, float] = {}

    def interval(self, chat_id: int) -> float:
        return self.group_interval if chat_id < 0 else self.private_interval

    def free_at(self, chat_id: int) -> float:
        """When the chat may next get a message (monotonic time; may be in the past)."""
        return self._free_at.get(chat_id, 0.0)

    def reserve(self, chat_id: int) -> float:
        """Book the chat's next free slot and return when it starts (monotonic time)."""
        at = max(time.monotonic(), self.free_at(chat_id))
        self._free_at[chat_id] = at + self.interval(chat_id)
        if len(self._free_at) > 100_000:  # forget chats whose slots are long past
            now = time.monotonic()
            self._free_at = {c: t for c, t in self._free_at.items() if t > now}
        return at
