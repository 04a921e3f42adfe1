"""The reminder sweep called directly with a movable clock: offsets, overdue notices,
escalation up the tree, downtime catch-up, quiet hours, pauses, per-plan settings."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.config import ConfigError, RemindersConfig, reminders_for_plan
from bot.services import directives, pauses, plans, reminders, reports
from bot.services.authz import NotAllowed
from bot.services.confirmations import Tap, confirm_taps
from bot.services.directives import Target
from bot.services.members import MemberView
from bot.services.pauses import PauseError
from bot.services.quiet import QuietHours
from storage.models import Member, MemberStatus, OutboxMessage, Plan, Role, TaskState
from tests.factories import make_member, make_tree

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = RemindersConfig()
DAY = timedelta(days=1)


class Inbox:
    """The outbox rows written since the last look, by recipient."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen = 0

    async def new(self) -> list[OutboxMessage]:
        rows = list(
            await self.session.scalars(
                select(OutboxMessage).where(OutboxMessage.id > self.seen).order_by(OutboxMessage.id)
            )
        )
        if rows:
            self.seen = rows[-1].id
        return rows

    async def by_member(self) -> Counter[int]:
        return Counter(row.member_id for row in await self.new() if row.member_id is not None)


class World:
    """The test tree with people in it, a plan and one task for every commune."""

    def __init__(self, session: AsyncSession, clock: ManualClock) -> None:
        self.session = session
        self.clock = clock
        self.inbox = Inbox(session)

    async def build(self, *, deadline: datetime | None = None) -> None:
        s, c = self.session, self.clock
        await make_tree(s, c)
        self.px = [await make_member(s, c, "HN-BD-PX", name=f"PX{i}") for i in (1, 2)]
        self.tb = await make_member(s, c, "HN-BD-TB", name="TB")
        self.bc = await make_member(s, c, "QN-HL-BC", name="BC")
        self.district = await make_member(s, c, "HN-BD", Role.COORDINATOR, name="Quận BĐ")
        self.province = await make_member(s, c, "HN", Role.COORDINATOR, name="Tỉnh HN")
        self.committee = await make_member(s, c, "BCA", Role.COORDINATOR, name="BCĐ")
        self.plan = await plans.create_plan(
            s,
            c,
            self.committee.actor,
            code="333/KH-BCĐ",
            title="Ngày hội",
            event_date=c.now().date(),
        )
        self.deadline = deadline or c.now() + 5 * DAY
        sent = await plans.create_task(
            s,
            c,
            self.committee.actor,
            self.plan.id,
            title="Rà soát địa điểm",
            description="",
            deadline=self.deadline,
            target=Target.parse("level:commune"),
            tz=TZ,
        )
        self.task_id = sent.task_id
        await self.inbox.new()  # the assignment notices

    async def sweep_at(
        self, when: datetime, config: RemindersConfig = CONFIG
    ) -> reminders.SweepReport:
        self.clock.set(when)
        return await reminders.sweep(self.session, when, config, TZ)

    async def report(self, who: MemberView, state: TaskState, progress: int | None = None) -> None:
        await reports.submit_report(
            self.session, self.clock, who.actor, self.task_id, state, progress, TZ
        )
        await self.inbox.new()


@pytest.fixture
async def world(session: AsyncSession, clock: ManualClock) -> World:
    built = World(session, clock)
    await built.build()
    return built


QUIET = QuietHours.within(CONFIG, TZ)


def test_reminder_points_offsets_overdue() -> None:
    deadline = datetime(2026, 7, 6, 2, 0, tzinfo=UTC)  # 09:00 local
    created = deadline - 10 * DAY

    def point(now: datetime, delivered: datetime = created) -> datetime | None:
        return reminders.reminder_point(CONFIG, QUIET, deadline, delivered, now)

    assert point(deadline - 3 * DAY - timedelta(seconds=1)) is None
    assert point(deadline - 3 * DAY) == deadline - 3 * DAY
    assert point(deadline - 2 * DAY) == deadline - 3 * DAY
    assert point(deadline - timedelta(hours=1)) == deadline - timedelta(hours=2)
    assert point(deadline) == deadline
    assert point(deadline + 3 * DAY + timedelta(hours=5)) == deadline + 3 * DAY
    # a task given 30 hours before its deadline: the 3-day point never existed
    late_start = deadline - timedelta(hours=30)
    assert point(deadline - timedelta(hours=25), late_start) is None
    assert point(deadline - DAY, late_start) == deadline - DAY


def test_a_point_in_quiet_hours_moves_to_the_last_sweep_before_them() -> None:
    """A deadline given as a day (23:59): "2h" and "1d" fall at night; they move to the
    evening's last sweep before 21:30, never after the deadline."""
    deadline = datetime(2026, 7, 6, 23, 59, tzinfo=TZ).astimezone(UTC)
    created = deadline - 10 * DAY
    evening = datetime(2026, 7, 6, 21, 30, tzinfo=TZ) - CONFIG.sweep_interval
    day_before = evening - DAY

    def point(now: datetime) -> datetime | None:
        return reminders.reminder_point(CONFIG, QUIET, deadline, created, now)

    assert point(day_before - timedelta(seconds=1)) == day_before - 2 * DAY  # "3d"
    assert point(day_before) == day_before  # "1d": the evening before, not 06:30 on the day
    assert point(evening) == evening  # "2h": the evening of the day
    assert point(evening) < deadline
    # every point lies outside quiet hours
    for hours in range(0, 24 * 4):
        found = point(deadline - 4 * DAY + timedelta(hours=hours))
        assert found is None or not QUIET.active(found) or found >= deadline


def test_a_task_held_for_the_morning_gets_no_reminder_with_it() -> None:
    """Assigned at 23:00 and due at 07:00: it arrives at 06:30, and no reminder point comes
    with it (its "2h" point moved to the evening before, when the task did not exist yet).
    Due at 06:00, before the morning: it goes at once."""
    written = datetime(2026, 7, 5, 23, 0, tzinfo=TZ).astimezone(UTC)
    morning = datetime(2026, 7, 6, 6, 30, tzinfo=TZ).astimezone(UTC)
    deadline = datetime(2026, 7, 6, 7, 0, tzinfo=TZ).astimezone(UTC)
    delivered = QUIET.delivery(written, deadline)
    assert delivered == morning
    for minutes in range(0, 8 * 60, 5):
        now = written + timedelta(minutes=minutes)
        if now < deadline:
            assert reminders.reminder_point(CONFIG, QUIET, deadline, delivered, now) is None
    before_morning = datetime(2026, 7, 6, 6, 0, tzinfo=TZ).astimezone(UTC)
    assert QUIET.delivery(written, before_morning) == written


def test_quiet_hours_cross_midnight() -> None:
    quiet = QuietHours(time(21, 30), time(6, 30), TZ)
    at = lambda h, m: datetime(2026, 7, 1, h, m, tzinfo=TZ)  # noqa: E731
    assert [quiet.active(at(h, m)) for h, m in [(21, 29), (21, 30), (23, 0), (6, 29), (6, 30)]] == [
        False,
        True,
        True,
        True,
        False,
    ]
    assert quiet.release(at(23, 0)) == datetime(2026, 7, 2, 6, 30, tzinfo=TZ)
    assert quiet.release(at(5, 0)) == datetime(2026, 7, 1, 6, 30, tzinfo=TZ)
    assert quiet.release(at(12, 0)) == at(12, 0)
    assert not QuietHours(time(0, 0), time(0, 0), TZ).active(at(3, 0))


def test_plan_settings_override_the_configuration() -> None:
    chosen = reminders_for_plan(CONFIG, {"task_offsets": ["1d", "7d"], "overdue_every": "2d"})
    assert chosen.task_offsets == (timedelta(days=7), timedelta(days=1))
    assert chosen.overdue_every == timedelta(days=2)
    assert chosen.escalate_after == CONFIG.escalate_after
    with pytest.raises(ConfigError, match="cannot be set per plan"):
        reminders_for_plan(CONFIG, {"quiet_start": "22:00"})
    with pytest.raises(ConfigError, match="at least 10m"):
        reminders_for_plan(CONFIG, {"overdue_every": "1m"})
    with pytest.raises(ConfigError, match="list of durations"):
        reminders_for_plan(CONFIG, {"task_offsets": "3d"})


async def test_reminders_at_each_offset_once_to_units_not_done(world: World) -> None:
    w = world
    assert not await w.sweep_at(w.clock.now())  # the assignment itself said it all
    done = await w.sweep_at(w.deadline - 3 * DAY)
    assert (done.reminders, done.messages) == (3, 4)
    texts = {row.member_id: row.payload["text"] for row in await w.inbox.new()}
    assert set(texts) == {w.px[0].id, w.px[1].id, w.tb.id, w.bc.id}
    assert "NHẮC VIỆC — nhiệm vụ #" in texts[w.tb.id]
    assert "còn 3 ngày" in texts[w.tb.id]
    assert "chưa báo cáo lần nào" in texts[w.tb.id]
    row_buttons = (await w.session.get(OutboxMessage, w.inbox.seen)).payload["reply_markup"]
    assert row_buttons["inline_keyboard"][0][0]["callback_data"].startswith("tk")

    assert not await w.sweep_at(w.deadline - 3 * DAY + timedelta(minutes=30))  # once per point
    await w.report(w.px[0], TaskState.DONE)
    await w.report(w.tb, TaskState.IN_PROGRESS, 50)
    await w.sweep_at(w.deadline - DAY)
    rows = await w.inbox.new()
    assert Counter(r.member_id for r in rows) == {w.tb.id: 1, w.bc.id: 1}
    assert "Đang thực hiện, 50%" in next(r for r in rows if r.member_id == w.tb.id).payload["text"]
    await w.sweep_at(w.deadline - timedelta(hours=2))
    rows = await w.inbox.new()
    assert {r.member_id for r in rows} == {w.tb.id, w.bc.id}
    assert all("còn 2 giờ" in r.payload["text"] for r in rows)


async def test_overdue_daily_and_escalation_one_level_at_a_time(world: World) -> None:
    w = world
    await w.report(w.px[0], TaskState.DONE)
    report = await w.sweep_at(w.deadline)
    assert (report.overdue, report.escalations) == (2, 0)
    rows = await w.inbox.new()
    assert {r.member_id for r in rows} == {w.tb.id, w.bc.id}
    assert all("QUÁ HẠN" in r.payload["text"] for r in rows)

    report = await w.sweep_at(w.deadline + timedelta(hours=2))  # escalate_after
    assert (report.overdue, report.escalations) == (0, 2)
    rows = await w.inbox.new()
    # Trúc Bạch goes to its district; Hạ Long has no coordinator, so the nearest above: BCĐ
    assert Counter(r.member_id for r in rows) == {w.district.id: 1, w.committee.id: 1}
    to_district = next(r.payload["text"] for r in rows if r.member_id == w.district.id)
    assert "ĐƠN VỊ CHẬM TIẾN ĐỘ" in to_district
    assert "Công an phường Trúc Bạch (HN-BD-TB)" in to_district
    assert "Bãi Cháy" not in to_district
    assert "thuộc Công an quận Ba Đình" in to_district

    report = await w.sweep_at(w.deadline + DAY)
    assert (report.overdue, report.escalations) == (2, 0)
    assert {r.member_id for r in await w.inbox.new()} == {w.tb.id, w.bc.id}
    # one level up for Trúc Bạch; Bãi Cháy's report already reached the issuer: no repeat
    await w.sweep_at(w.deadline + DAY + timedelta(hours=2))
    assert await w.inbox.by_member() == {w.province.id: 1}
    await w.sweep_at(w.deadline + 2 * DAY + timedelta(hours=2))  # overdue again + top level
    got = await w.inbox.by_member()
    assert got == {w.tb.id: 1, w.bc.id: 1, w.committee.id: 1}
    await w.sweep_at(w.deadline + 9 * DAY + timedelta(hours=2))  # nowhere higher to go
    assert await w.inbox.by_member() == {w.tb.id: 1, w.bc.id: 1}


async def test_hours_of_downtime_are_caught_up_with_one_message(world: World) -> None:
    w = world
    report = await w.sweep_at(w.deadline + 3 * DAY + timedelta(hours=5))
    assert (report.overdue, report.reminders) == (3, 0)
    got = await w.inbox.by_member()
    assert got == {  # every level that would have heard meanwhile, once each
        w.px[0].id: 1,
        w.px[1].id: 1,
        w.tb.id: 1,
        w.bc.id: 1,
        w.district.id: 1,
        w.province.id: 1,
        w.committee.id: 1,  # one message listing all three communes
    }
    rows = await w.session.scalars(
        select(OutboxMessage).where(OutboxMessage.member_id == w.committee.id)
    )
    text = list(rows)[-1].payload["text"]
    assert "hoạt động trở lại" not in text  # the first sweep ever: nothing to catch up
    assert all(name in text for name in ("Phúc Xá", "Trúc Bạch", "Bãi Cháy"))
    assert not await w.sweep_at(w.deadline + 3 * DAY + timedelta(hours=6))


async def test_unreachable_units_count_as_silent_and_say_so(world: World) -> None:
    w = world
    member = await w.session.get(Member, w.bc.id)
    member.unreachable_since = w.clock.now()
    await w.sweep_at(w.deadline + timedelta(hours=2))
    rows = await w.inbox.new()
    assert w.bc.id not in {r.member_id for r in rows}  # nobody to remind there
    to_top = next(r.payload["text"] for r in rows if r.member_id == w.committee.id)
    assert "Bãi Cháy (QN-HL-BC): chưa báo cáo lần nào · 📵" in to_top


async def test_quiet_hours_hold_reminders_until_morning_but_not_urgent_directives(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    evening = datetime(2026, 7, 5, 22, 0, tzinfo=TZ)  # the 1-day point falls at night
    await w.build(deadline=evening + DAY)
    for urgent in (True, False):
        await directives.send_directive(
            session,
            clock,
            w.committee.actor,
            text="Khẩn" if urgent else "Thường",
            target=Target.parse("list:HN-BD-TB"),
            ack_by=evening + 3 * DAY,
            urgent=urgent,
            tz=TZ,
        )
    await w.inbox.new()
    slow = replace(CONFIG, flash_remind_every=timedelta(hours=12))  # not again by the morning
    report = await w.sweep_at(evening + timedelta(minutes=5), slow)
    assert (report.reminders, report.directive_reminders) == (0, 1)
    rows = await w.inbox.new()
    assert [r.member_id for r in rows] == [w.tb.id]
    assert "NHẮC LẠI" in rows[0].payload["text"]
    assert "HỎA TỐC" in rows[0].payload["text"]
    morning = datetime(2026, 7, 6, 6, 30, tzinfo=TZ)
    report = await w.sweep_at(morning, slow)
    assert report.reminders == 3
    assert report.directive_reminders == 1
    rows = [r for r in await w.inbox.new() if r.member_id == w.tb.id]
    assert len(rows) == 1  # the morning is one message: the task and the directive together
    text = rows[0].payload["text"]
    assert "2 việc" in text
    assert "📢 Chỉ đạo #" in text
    buttons = rows[0].payload["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"][:2] for row in buttons] == ["tk", "dc", "la"]  # 📋 all


async def test_directives_are_re_reminded_until_their_deadline_then_escalated(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    await w.build()
    start = clock.now()
    sent = await directives.send_directive(
        session,
        clock,
        w.district.actor,
        text="Rà soát lực lượng",
        target=Target.parse("level:commune"),
        ack_by=start + DAY + timedelta(hours=6),
        urgent=False,
        tz=TZ,
    )
    await w.inbox.new()
    assert not (await w.sweep_at(start + timedelta(hours=11))).directive_reminders
    report = await w.sweep_at(start + timedelta(hours=12))
    assert report.directive_reminders == 2
    assert await w.inbox.by_member() == {w.px[0].id: 1, w.px[1].id: 1, w.tb.id: 1}
    await confirm_taps(session, clock, [Tap(w.px[0].telegram_user_id, sent.directive_id, 1)], TZ)
    await w.inbox.new()
    await w.sweep_at(start + DAY)
    assert await w.inbox.by_member() == {w.tb.id: 1}
    await w.sweep_at(start + DAY + timedelta(hours=7))  # past the deadline: no more reminders
    assert await w.inbox.by_member() == {}
    await w.sweep_at(start + DAY + timedelta(hours=8))  # deadline + 2 h: up to the district
    rows = await w.inbox.new()
    assert [r.member_id for r in rows] == [w.district.id]
    assert "CHƯA XÁC NHẬN" in rows[0].payload["text"]
    assert "Công an phường Trúc Bạch (HN-BD-TB)" in rows[0].payload["text"]


async def test_a_paused_unit_hears_nothing_until_the_pause_ends(world: World) -> None:
    w = world
    await w.report(w.px[0], TaskState.DONE)
    view = await pauses.pause(
        w.session, w.clock, w.district.actor, "HN-BD-TB", "7d", "  Đang  khắc phục lũ ", TZ
    )
    assert (view.unit_name, view.reason) == ("Công an phường Trúc Bạch", "Đang khắc phục lũ")
    await w.sweep_at(w.deadline - 3 * DAY)
    assert w.tb.id not in await w.inbox.by_member()
    await w.sweep_at(w.deadline + timedelta(hours=2))
    got = await w.inbox.by_member()
    assert w.tb.id not in got
    assert w.district.id not in got
    listed = await pauses.active_pauses(w.session, w.clock, w.province.actor)
    assert [p.unit_code for p in listed] == ["HN-BD-TB"]
    await w.sweep_at(view.until + timedelta(minutes=1))  # over: the current notice, once
    got = await w.inbox.by_member()
    assert got[w.tb.id] == 1
    assert w.district.id not in got  # no jump up the tree
    assert w.province.id not in got
    await w.sweep_at(view.until + CONFIG.escalate_after + timedelta(minutes=1))
    assert await w.inbox.by_member() == {w.district.id: 1}  # the climb starts again below


async def test_pauses_are_checked(world: World) -> None:
    w = world
    bad = [
        ("NOPE", "7d", "lý do", "pause.unknown_unit"),
        ("HN-BD-TB", "someday", "lý do", "pause.bad_until"),
        ("HN-BD-TB", "01/01/2020", "lý do", "pause.until_range"),
        ("HN-BD-TB", "400d", "lý do", "pause.until_range"),
        ("HN-BD-TB", "7d", "   ", "pause.reason_needed"),
        ("HN-BD-TB", "7d", "x" * 501, "pause.reason_too_long"),
    ]
    for code, until, reason, key in bad:
        with pytest.raises(PauseError) as caught:
            await pauses.pause(w.session, w.clock, w.district.actor, code, until, reason, TZ)
        assert caught.value.key == key
    with pytest.raises(NotAllowed):  # Quảng Ninh is outside Ba Đình's subtree
        await pauses.pause(w.session, w.clock, w.district.actor, "QN-HL-BC", "7d", "x", TZ)
    with pytest.raises(NotAllowed):
        await pauses.pause(w.session, w.clock, w.tb.actor, "HN-BD-TB", "7d", "x", TZ)
    with pytest.raises(PauseError) as caught:
        await pauses.resume(w.session, w.clock, w.district.actor, "HN-BD-TB")
    assert caught.value.key == "pause.not_paused"
    await pauses.pause(w.session, w.clock, w.district.actor, "HN-BD-TB", "30/11", "lũ", TZ)
    assert await pauses.resume(w.session, w.clock, w.district.actor, "HN-BD-TB") == (
        "Công an phường Trúc Bạch"
    )
    await w.sweep_at(w.deadline - 3 * DAY)
    assert w.tb.id in await w.inbox.by_member()


async def test_a_plan_can_set_its_own_offsets(world: World) -> None:
    w = world
    plan = await w.session.get(Plan, w.plan.id)
    plan.settings = {"reminders": {"task_offsets": ["4d"], "escalate_after": "0s"}}
    await w.session.flush()
    assert (await w.sweep_at(w.deadline - 4 * DAY)).reminders == 3
    assert not await w.sweep_at(w.deadline - 3 * DAY)
    assert not await w.sweep_at(w.deadline - DAY)
    report = await w.sweep_at(w.deadline)
    assert (report.overdue, report.escalations) == (3, 3)  # escalated at once
    plan.settings = {"reminders": {"task_offsets": "nonsense"}}  # falls back to config.toml
    await w.session.flush()
    assert (await w.sweep_at(w.deadline + DAY)).overdue == 3


async def test_a_sweep_with_a_shorter_config_interval(world: World) -> None:
    w = world
    hourly = replace(CONFIG, overdue_every=timedelta(hours=1))
    await w.sweep_at(w.deadline, hourly)
    await w.inbox.new()
    assert (await w.sweep_at(w.deadline + timedelta(minutes=59), hourly)).overdue == 0
    assert (await w.sweep_at(w.deadline + timedelta(hours=1), hourly)).overdue == 3


async def test_levels_with_nobody_are_passed_over_and_nobody_above_means_nobody_told(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    await w.build()
    committee = await session.get(Member, w.committee.id)
    committee.status = MemberStatus.BLOCKED  # the steering committee has nobody active now
    await w.report(w.px[0], TaskState.DONE)
    await w.sweep_at(w.deadline + 3 * DAY)  # after downtime every staffed level hears
    got = await w.inbox.by_member()
    assert (got[w.district.id], got[w.province.id]) == (1, 1)  # Trúc Bạch, up to Hà Nội
    assert w.committee.id not in got
    # Bãi Cháy: nobody in Quảng Ninh or above, so nobody at all; its stamp still moved
    assert not (await w.sweep_at(w.deadline + 3 * DAY + timedelta(minutes=1))).escalations


async def test_a_non_urgent_directive_written_at_night_waits_for_the_morning(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    await w.build()
    quiet = QuietHours(CONFIG.quiet_start, CONFIG.quiet_end, TZ)
    night = datetime(2026, 7, 1, 23, 15, tzinfo=TZ)
    clock.set(night)
    sent = {}
    for urgent in (False, True):
        sent[urgent] = await directives.send_directive(
            session,
            clock,
            w.district.actor,
            text="Khẩn" if urgent else "Thường",
            target=Target.parse("list:HN-BD-TB"),
            ack_by=night + 2 * DAY,
            urgent=urgent,
            tz=TZ,
            quiet=quiet,
        )
    morning = datetime(2026, 7, 2, 6, 30, tzinfo=TZ)
    assert sent[False].held_until == morning
    assert sent[True].held_until is None
    rows = await w.inbox.new()
    assert [(r.payload["text"].split(" #")[0], r.not_before) for r in rows] == [
        ("📢 CHỈ ĐẠO", morning),
        ("🔴 CHỈ ĐẠO HỎA TỐC", night),
    ]
    clock.set(datetime(2026, 7, 2, 14, 0, tzinfo=TZ))  # in the day nothing waits
    day = await directives.send_directive(
        session,
        clock,
        w.district.actor,
        text="Ban ngày",
        target=Target.parse("list:HN-BD-TB"),
        ack_by=night + 2 * DAY,
        urgent=False,
        tz=TZ,
        quiet=quiet,
    )
    assert day.held_until is None
    assert [r.not_before for r in await w.inbox.new()] == [clock.now()]


async def test_a_big_catch_up_is_spread_over_sweeps_without_losing_anything(
    world: World,
) -> None:
    w = world
    when = w.deadline + timedelta(hours=2)
    w.clock.set(when)
    first = await reminders.sweep(w.session, when, CONFIG, TZ, budget=1)
    assert (first.overdue, first.escalations, first.unfinished) == (3, 0, True)
    second = await reminders.sweep(w.session, when, CONFIG, TZ, budget=1)
    assert (second.overdue, second.escalations, second.unfinished) == (0, 3, True)
    third = await reminders.sweep(w.session, when, CONFIG, TZ, budget=1)
    assert not third
    assert not third.unfinished
    got = await w.inbox.by_member()
    assert got == {
        w.px[0].id: 1,
        w.px[1].id: 1,
        w.tb.id: 1,
        w.bc.id: 1,
        w.district.id: 1,
        w.committee.id: 1,
    }


def test_a_long_list_of_units_fits_one_message() -> None:
    from bot.services.reminder_text import bounded

    lines = (f"• Công an xã số {i} (X-{i}): chưa báo cáo lần nào" for i in range(10_000))
    kept = bounded("vi", lines, 10_000)
    assert len("\n".join(kept)) < 3600
    assert kept[0] == "• Công an xã số 0 (X-0): chưa báo cáo lần nào"
    assert kept[-1] == f"… và {10_000 - (len(kept) - 1)} mục khác."
    assert bounded("vi", ["a", "b"], 2) == ["a", "b"]


async def test_a_pause_covers_the_whole_subtree_and_says_how_many(world: World) -> None:
    w = world
    view = await pauses.pause(w.session, w.clock, w.province.actor, "HN-BD", "7d", "Bão số 3", TZ)
    assert (view.units, view.pending) == (3, 2)  # the district and its two communes
    await w.sweep_at(w.deadline - 3 * DAY)
    got = await w.inbox.by_member()
    assert set(got) == {w.bc.id}  # Phúc Xá and Trúc Bạch are under the paused district
    await w.sweep_at(w.deadline + timedelta(hours=2))
    got = await w.inbox.by_member()
    assert set(got) == {w.bc.id, w.committee.id}  # Bãi Cháy's lateness climbs; theirs not
    committee_text = (
        (
            await w.session.scalars(
                select(OutboxMessage).where(OutboxMessage.member_id == w.committee.id)
            )
        )
        .all()[-1]
        .payload["text"]
    )
    assert "Bãi Cháy" in committee_text
    assert "Trúc Bạch" not in committee_text
    quiet_unit = await pauses.pause(
        w.session, w.clock, w.committee.actor, "QN", "3d", "Không có việc", TZ
    )
    assert quiet_unit.units == 3
    await reports.submit_report(w.session, w.clock, w.bc.actor, w.task_id, TaskState.DONE, None, TZ)
    emptied = await pauses.pause(w.session, w.clock, w.committee.actor, "QN", "3d", "Hết việc", TZ)
    assert emptied.pending == 0
