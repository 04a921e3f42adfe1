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

    def before(self, moment: datetime, lead: timedelta) -> datetime:
        """``moment`` outside quiet hours; otherwise ``lead`` before the quiet hours around it
        begin: the last sweep of the evening before (a reminder never waits past the night)."""
        if not self.active(moment):
            return moment
        local_moment = moment.astimezone(self.tz)
        start = datetime.combine(local_moment.date(), self.start, self.tz)
        if start > local_moment:
            start -= timedelta(days=1)
        return (start - lead).astimezone(UTC)

    def delivery(self, written: datetime, due: datetime | None = None) -> datetime:
        """When a non-urgent message written at ``written`` reaches people: after quiet hours,
        unless what it announces is ``due`` before they end (then at once)."""
        release = self.release(written)
        return written if due is not None and due <= release else release
