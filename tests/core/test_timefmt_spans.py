"""One way to say how long: the boundaries of the rule in ``bot.core.timefmt``, and the task
views and the scheduler's notices saying the same thing at the same instant."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.config import RemindersConfig
from bot.core.timefmt import relative, span, time_late, time_left, until
from bot.services import plans, reminder_text, reminders, task_views
from bot.services.directives import Target
from handlers.my_tasks import deadline_phrase
from storage.models import OutboxMessage, Role
from tests.factories import make_member, make_tree

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
S, M, H, D = (timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1))

# (gap, how long it is said to be): minutes rounded to the nearest, then truncated to the
# precision of the size — under an hour minutes, under a day hours and minutes, under two
# days "1 ngày N giờ", from two days whole days.
SPANS = [
    (0 * S, "dưới 1 phút"),
    (29 * S, "dưới 1 phút"),
    (30 * S, "1 phút"),
    (59 * S, "1 phút"),
    (1 * M, "1 phút"),
    (59 * M + 29 * S, "59 phút"),
    (59 * M + 59 * S, "1 giờ"),  # rounded to the minute: 60 minutes
    (1 * H, "1 giờ"),
    (1 * H + 40 * M, "1 giờ 40 phút"),  # not "2 giờ"
    (2 * H + 1 * M, "2 giờ 1 phút"),
    (23 * H + 59 * M, "23 giờ 59 phút"),
    (24 * H, "1 ngày"),
    (25 * H, "1 ngày 1 giờ"),  # not "2 ngày"
    (36 * H, "1 ngày 12 giờ"),  # not "2 ngày"
    (47 * H + 59 * M, "1 ngày 23 giờ"),
    (48 * H, "2 ngày"),
    (2 * D + 17 * H, "2 ngày"),  # never rounded further away: not "3 ngày"
    (3 * D - 3 * S, "3 ngày"),  # a sweep a few seconds after the 3-day point
    (45 * D + 5 * H, "45 ngày"),
]


@pytest.mark.parametrize(("gap", "said"), SPANS, ids=[s for _, s in SPANS])
def test_a_gap_is_said_the_same_either_side_of_the_deadline(gap: timedelta, said: str) -> None:
    assert span("vi", gap) == said
    assert span("vi", -gap) == said
    assert reminder_text.span("vi", gap) == said  # the scheduler's name for it


@pytest.mark.parametrize(("gap", "said"), SPANS[2:], ids=[s for _, s in SPANS[2:]])
def test_left_and_late_are_whole_phrases(gap: timedelta, said: str) -> None:
    assert relative("vi", gap) == f"còn {said}" == time_left("vi", gap)
    assert relative("vi", -gap) == f"quá hạn {said}" == time_late("vi", gap)
    assert reminder_text.time_left("vi", gap) == time_left("vi", gap)
    assert reminder_text.time_late("vi", gap) == time_late("vi", gap)


@pytest.mark.parametrize("gap", [0 * S, 1 * S, 29 * S, -1 * S, -29 * S])
def test_within_half_a_minute_of_the_deadline_it_is_due(gap: timedelta) -> None:
    assert relative("vi", gap) == "đến hạn"
    assert relative("en", gap) == "due now"
    assert time_left("vi", abs(gap)) == time_late("vi", abs(gap)) == "đến hạn"


def test_english_counts_one_and_many() -> None:
    assert relative("en", 1 * M) == "1 minute left"
    assert relative("en", 2 * H + 1 * M) == "2 hours 1 minute left"
    assert relative("en", -(25 * H)) == "overdue by 1 day 1 hour"
    assert relative("en", -(3 * D)) == "overdue by 3 days"
    assert span("en", 10 * S) == "under a minute"


def test_never_zero_nor_negative() -> None:
    for seconds in range(-3 * 86_400, 3 * 86_400, 997):
        said = relative("vi", timedelta(seconds=seconds))
        assert " 0 " not in f" {said} ", said
        assert "-" not in said, said


# -- the views and the notices at the same instant ------------------------------------------


class TaskWorld:
    def __init__(self, session: AsyncSession, clock: ManualClock) -> None:
        self.session, self.clock = session, clock

    async def build(self) -> None:
        s, c = self.session, self.clock
        await make_tree(s, c)
        self.officer = await make_member(s, c, "HN-BD-PX", name="An")
        boss = await make_member(s, c, "BCA", Role.COORDINATOR, name="BCĐ")
        plan = await plans.create_plan(
            s, c, boss.actor, code="333/KH-BCĐ", title="Ngày hội", event_date=c.now().date()
        )
        self.deadline = c.now() + 5 * D  # 09:00 local: no reminder point in quiet hours
        sent = await plans.create_task(
            s,
            c,
            boss.actor,
            plan.id,
            title="Rà soát địa điểm",
            description="",
            deadline=self.deadline,
            target=Target.parse("list:HN-BD-PX"),
            tz=TZ,
        )
        self.task_id = sent.task_id
        self.seen = await self._last_row()

    async def _last_row(self) -> int:
        rows = await self.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id))
        return max(rows, default=0)

    async def view_at(self, gap: timedelta) -> str:
        """What ``/tasks`` says of the deadline, ``gap`` after it (before it if negative)."""
        self.clock.set(self.deadline + gap)
        lines = await task_views.my_tasks(self.session, self.officer.actor, self.clock.now())
        (line,) = [x for x in lines if x.id == self.task_id]
        return deadline_phrase("vi", line)

    async def notices_at(self, gap: timedelta) -> list[str]:
        """The texts a sweep ``gap`` after the deadline sends the officer."""
        when = self.deadline + gap
        self.clock.set(when)
        await reminders.sweep(self.session, when, RemindersConfig(), TZ)
        rows = list(
            await self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id > self.seen, OutboxMessage.member_id == self.officer.id)
                .order_by(OutboxMessage.id)
            )
        )
        self.seen = await self._last_row()
        return [row.payload["text"] for row in rows]


@pytest.fixture
async def task_world(session: AsyncSession, clock: ManualClock) -> TaskWorld:
    world = TaskWorld(session, clock)
    await world.build()
    return world


INSTANTS = [
    (-3 * D, "còn 3 ngày"),
    (-36 * H, "còn 1 ngày 12 giờ"),
    (-(23 * H + 59 * M), "còn 23 giờ 59 phút"),
    (-1 * H, "còn 1 giờ"),
    (-(59 * M + 59 * S), "còn 1 giờ"),
    (-1 * M, "còn 1 phút"),
    (-59 * S, "còn 1 phút"),
    (0 * S, "đến hạn"),  # 17:00 sharp: neither "còn 0 ngày" nor "quá 1 phút"
    (1 * M, "quá hạn 1 phút"),
    (1 * H, "quá hạn 1 giờ"),  # not "QUÁ HẠN 1 ngày"
    (24 * H, "quá hạn 1 ngày"),
    (25 * H, "quá hạn 1 ngày 1 giờ"),  # not "QUÁ HẠN 2 ngày"
    (36 * H, "quá hạn 1 ngày 12 giờ"),
    (10 * D, "quá hạn 10 ngày"),
]


@pytest.mark.parametrize(("gap", "said"), INSTANTS, ids=[s for _, s in INSTANTS])
async def test_the_task_list_and_the_notice_phrases_agree(
    task_world: TaskWorld, gap: timedelta, said: str
) -> None:
    view = await task_world.view_at(gap)
    assert view == said
    # what a notice written at that instant says, by the scheduler's own helpers
    notice = (
        reminder_text.time_left("vi", -gap)
        if gap < timedelta(0)
        else reminder_text.time_late("vi", gap)
    )
    assert notice == view
    assert until("vi", task_world.deadline, task_world.deadline + gap) == view


@pytest.mark.parametrize(
    "gap",
    [-3 * D, -1 * D, -2 * H, 1 * D, 25 * H],
    ids=["3d before", "1d before", "2h before", "1d late", "25h late"],
)
async def test_a_real_sweep_says_the_same_duration_as_the_task_list(
    task_world: TaskWorld, gap: timedelta
) -> None:
    """The sweep's reminder or overdue notice at a point it sends, against ``/tasks`` then."""
    texts = await task_world.notices_at(gap)
    assert texts, "the sweep sent the officer nothing"
    view = await task_world.view_at(gap)
    duration = span("vi", gap)
    assert view.endswith(duration), view
    assert any(duration in text for text in texts), (duration, texts)
