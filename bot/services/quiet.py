"""Quiet hours: the local night during which non-urgent messages wait for the morning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.config import Config, RemindersConfig


@dataclass(frozen=True)
class QuietHours:
    """From ``start`` to ``end`` local time (crossing midnight if start > end); equal = none."""

    start: time
    end: time
    tz: ZoneInfo

    @classmethod
    def of(cls, config: Config) -> QuietHours:
        return cls.within(config.reminders, config.tz)

    @classmethod
    def within(cls, reminders: RemindersConfig, tz: ZoneInfo) -> QuietHours:
        return cls(reminders.quiet_start, reminders.quiet_end, tz)

    def active(self, now: datetime) -> bool:
        if self.start == self.end:
            return False
        clock = now.astimezone(self.tz).time()
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def release(self, now: datetime) -> datetime:
        """``now`` outside quiet hours; otherwise the moment they end."""
        if not self.active(now):
            return now
        local_now = now.astimezone(self.tz)
        end = datetime.combine(local_now.date(), self.end, self.tz)
        if end <= local_now:
            end += timedelta(days=1)
        return end.astimezone(UTC)

    def hold(self, now: datetime) -> datetime | None:
        """When a non-urgent message written ``now`` may go: None if at once."""
        release = self.release(now)
        return release if release > now else None
