"""``make demo``, scenes 14–16: the scheduler under an accelerated clock — reminders before
the deadline, overdue notices and escalation up the tree, and the next morning's digests.

The demo runs the scheduler's jobs itself, each right after it moves the clock, instead of
waiting for the every-30-seconds trigger of real time; the jobs are the bot's own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select

from bot.core.clock import ShiftedClock
from bot.core.config import Config
from bot.core.i18n import t
from bot.core.timefmt import local
from bot.emulator import Person
from bot.scheduler import Scheduler
from bot.services.quiet import QuietHours
from storage.db import Database
from storage.models import Task


class Show(Protocol):
    def scene(self, name: str) -> None: ...

    def say(self, text: str) -> None: ...


Expect = Callable[[bool, str], None]


class FastForward:
    """Moves the shared clock to a moment (or to the end of quiet hours around it) and runs
    a scheduler job there."""

    def __init__(self, show: Show, config: Config, clock: ShiftedClock, db: Database) -> None:
        self.show = show
        self.config = config
        self.clock = clock
        self.scheduler = Scheduler(db, clock, config, lambda: None)
        self.quiet = QuietHours.of(config)

    async def run(self, job: str, moment: datetime) -> None:
        moment = self.quiet.release(moment)
        self.clock.advance(moment - self.clock.now())
        self.show.say(t(None, "demo.clock", when=local(moment, self.config.tz)))
        await self.scheduler.run(job)


def _next_digest(config: Config, after: datetime) -> datetime:
    local_after = after.astimezone(config.tz)
    moment = datetime.combine(local_after.date(), config.reminders.digest_time, config.tz)
    return moment if moment > local_after else moment + timedelta(days=1)


async def _received(person: Person, words: str) -> str:
    await person.wait_until(lambda: any(words in m.body for m in person.bot_messages()))
    found = [m.body for m in person.unread() if words in m.body]
    return found[-1]


async def play(
    show: Show,
    people: dict[str, Person],
    expect: Expect,
    config: Config,
    clock: ShiftedClock,
) -> None:
    an, hung, lan, hoa, bao = (people[k] for k in ("an", "hung", "lan", "hoa", "bao"))
    for person in people.values():
        person.read_all()
    db = Database(config.database.url)
    try:
        async with db.session() as session:
            deadline = await session.scalar(select(Task.deadline).where(Task.id == 1))
        assert deadline is not None  # noqa: S101 - scene 11 made it
        forward = FastForward(show, config, clock, db)

        show.scene("reminders")
        await forward.run("reminders", deadline - timedelta(days=3))
        reminder = await _received(an, "REMINDER")  # An reads English since scene 7
        expect("#1" in reminder, "the officer who has not reported is reminded")
        await _received(lan, "NHẮC VIỆC")
        expect(not hung.unread(), "the commune that is done hears nothing")

        show.scene("escalation")
        await forward.run("reminders", deadline + config.reminders.escalate_after)
        expect("OVERDUE" in await _received(an, "OVERDUE"), "the late officer is told")
        await _received(lan, "QUÁ HẠN")
        late = await _received(hoa, "ĐƠN VỊ CHẬM TIẾN ĐỘ")
        expect(
            "Phúc Xá" in late and "Trúc Bạch" in late and "📵" in late,
            "Hà Nội hears of its two silent wards, one of which nobody can reach",
        )
        up = await _received(bao, "ĐƠN VỊ CHẬM TIẾN ĐỘ")
        expect("Thạch Thang" in up, "the committee hears of the blocked ward with no one between")

        show.scene("digest")
        await forward.run("digests", _next_digest(config, clock.now()))
        digest = await _received(bao, "BẢN TIN")
        expect(
            "Thạch Thang" in digest and "Hoàng Đức Minh" in digest,
            "the committee's digest lists the blocked ward and the unreachable officer",
        )
        await _received(hoa, "BẢN TIN")
    finally:
        await db.dispose()
