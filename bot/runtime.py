"""What every handler and job needs, built once when the application starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.clock import Clock
from bot.core.config import Config
from bot.delivery.pacing import ChatSpacing, Pacer
from storage.db import Database

if TYPE_CHECKING:
    from bot.delivery.outbox import OutboxSender
    from bot.scheduler import Scheduler
    from bot.tapqueue import TapQueue


@dataclass
class Runtime:
    config: Config
    clock: Clock
    db: Database
    pacer: Pacer
    spacing: ChatSpacing
    bot_username: str = ""
    sender: OutboxSender | None = field(default=None)
    taps: TapQueue | None = field(default=None)
    scheduler: Scheduler | None = field(default=None)

    def wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()
