"""Rate limits and fault injection for the emulator.

The overall limit is a token bucket (burst 30, refilled at 30/s by default); a request that
finds it empty gets 429 and bans the whole bot for ``retry_after`` seconds. Each private
chat allows 1 message/s and each group 20/min; breaking those bans that chat only.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass
class TokenBucket:
    rate: float
    burst: float
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> float:
        """Take a token; 0.0 if there was one, else seconds until one is available."""
        if self.tokens < 0:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass(frozen=True)
class LimitSettings:
    enabled: bool = True
    global_rate: float = 30.0
    global_burst: float = 30.0
    global_retry_after: int = 5
    chat_rate: float = 1.0
    chat_burst: float = 1.0
    group_per_minute: float = 20.0
    latency_min: float = 0.0
    latency_max: float = 0.0


class FaultKind(StrEnum):
    FLOOD = "429"
    SERVER_ERROR = "5xx"
    TIMEOUT = "timeout"
    FORBIDDEN = "403"
    BAD_REQUEST = "400"


@dataclass
class Fault:
    """Answer matching requests with a failure, ``times`` times (or with a probability)."""

    kind: FaultKind
    method: str | None = None
    chat_id: int | None = None
    times: int = 1
    probability: float = 1.0
    retry_after: int = 5
    delay: float = 30.0  # how long a TIMEOUT holds the request before giving up
    deliver: bool = False  # a TIMEOUT that still delivers (the answer is what gets lost)
    hits: int = field(default=0)

    def matches(self, method: str, chat_id: int | None, rng: random.Random) -> bool:
        if self.times <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        if self.chat_id is not None and self.chat_id != chat_id:
            return False
        return rng.random() < self.probability


IN_FLIGHT_GRACE = 0.05  # seconds of client-side processing allowed on top of the round trip


@dataclass
class Violation:
    retry_after: int
    scope: str  # "global" or "chat"


class RateLimiter:
    """Decides whether a send is allowed under the emulated limits."""

    def __init__(self, settings: LimitSettings) -> None:
        self.settings = settings
        self.global_bucket = TokenBucket(settings.global_rate, settings.global_burst)
        self.chat_buckets: dict[int, TokenBucket] = {}
        self.banned_until = 0.0
        self.chat_banned_until: dict[int, float] = {}
        self.requests_during_ban = 0
        self.requests_in_flight_at_ban = 0
        self.violations = 0
        self.ban_windows: list[tuple[float, float]] = []  # whole-bot bans, monotonic times

    def configure(self, settings: LimitSettings) -> None:
        self.settings = settings
        self.global_bucket = TokenBucket(settings.global_rate, settings.global_burst)
        self.chat_buckets.clear()

    def check(self, chat_id: int, now: float) -> Violation | None:
        if not self.settings.enabled:
            return None
        if now < self.banned_until:
            self._count_during_ban(now)
            return Violation(max(1, math.ceil(self.banned_until - now)), "global")
        if now < self.chat_banned_until.get(chat_id, 0.0):
            self._count_during_ban(now)
            return Violation(max(1, math.ceil(self.chat_banned_until[chat_id] - now)), "chat")
        bucket = self.chat_buckets.get(chat_id)
        if bucket is None:
            if chat_id < 0:
                bucket = TokenBucket(
                    self.settings.group_per_minute / 60.0, self.settings.group_per_minute
                )
            else:
                bucket = TokenBucket(self.settings.chat_rate, self.settings.chat_burst)
            self.chat_buckets[chat_id] = bucket
        if self.global_bucket.take(now) > 0:
            self.violations += 1
            self.banned_until = now + self.settings.global_retry_after
            self.ban_windows.append((now, self.banned_until))
            return Violation(self.settings.global_retry_after, "global")
        wait = bucket.take(now)
        if wait > 0:
            self.global_bucket.tokens += 1.0  # the refused message did not use overall capacity
            self.violations += 1
            retry = max(1, math.ceil(wait))
            self.chat_banned_until[chat_id] = now + retry
            return Violation(retry, "chat")
        return None

    def _count_during_ban(self, now: float) -> None:
        """Count a request sent into a ban, except those already on the wire when it began.

        A client cannot know of a ban before the 429 reaches it: requests arriving within one
        round trip of the ban's start were sent in good faith and are counted separately.
        """
        started = self.ban_windows[-1][0] if self.ban_windows else 0.0
        if now - started <= self.settings.latency_max + IN_FLIGHT_GRACE:
            self.requests_in_flight_at_ban += 1
        else:
            self.requests_during_ban += 1

    def ban(self, seconds: int, now: float) -> None:
        """An injected flood ban: the whole bot, like a real one."""
        self.banned_until = max(self.banned_until, now + seconds)
        self.ban_windows.append((now, self.banned_until))
