"""An HTTP Bot API emulator for tests, benchmarks and ``make demo``.

It implements the Bot API methods fieldbot calls, keeps simulated users and chats, enforces
Telegram's rate limits and injects faults (429 with retry_after, 5xx, timeouts, 403).
"""

from bot.emulator.limits import Fault, FaultKind, LimitSettings
from bot.emulator.people import Person
from bot.emulator.server import BotApiEmulator

__all__ = ["BotApiEmulator", "Fault", "FaultKind", "LimitSettings", "Person"]
