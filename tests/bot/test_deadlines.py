"""Deadlines that move: one task's (the rules, who may, what units hear, what restarts, what
the history keeps) and a plan's event date through ``plan import --update``."""

from __future__ import annotations

import builtins
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from bot.core.clock import ManualClock
from bot.core.config import RemindersConfig
from bot.services import deadlines, plan_import, plans, reminders, reports
from bot.services.authz import NotAllowed
from bot.services.deadlines import DeadlineError
from bot.services.directives import Target
from bot.services.members import MemberView, view_of
from bot.services.plan_import import PlanImportError, PlanSpec
from bot.services.quiet import QuietHours
from storage.db import make_engine
from storage.migrate import alembic_config, upgrade
from storage.models import (
    AuditEvent,
    Member,
    OutboxMessage,
    OutboxStatus,
    Plan,
    Role,
    Task,
    TaskAssignment,
    TaskState,
)
from tests.factories import TREE, make_member, make_tree

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EVENT = date(2026, 8, 19)  # the clock starts at 09:00 01/07/2026
QUIET = QuietHours.within(RemindersConfig(), TZ)  # 21:30 to 06:30


def at(day: int, month: int, hour: int = 23, minute: int = 59) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


async def _notices(session: AsyncSession, prefix: str) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.ref.startswith(prefix)).order_by(OutboxMessage.id)
    )
    return list(rows)


async def _delivered(session: AsyncSession) -> None:
    """Everything queued so far has reached its chat (as the outbox sender would have it)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENT)
    )


class World:
    """A district coordinator's task to the two communes of Ba Đình: Phúc Xá (two officers,
    still working) and Trúc Bạch (one officer, done)."""

    def __init__(self, session: AsyncSession, clock: ManualClock) -> None:
        self.session, self.clock = session, clock

    async def build(self, deadline: str = "event-14d") -> World:
        session, clock = self.session, self.clock
        await make_tree(session, clock)
        self.district = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
        self.an = await make_member(session, clock, "HN-BD-PX", name="An")
        self.ba = await make_member(session, clock, "HN-BD-PX", name="Ba")
        self.binh = await make_member(session, clock, "HN-BD-TB", name="Bình")
        self.plan = await plans.create_plan(
            session, clock, self.district.actor, code="P1", title="Kế hoạch", event_date=EVENT
        )
        sent = await plans.create_task(
            session,
            clock,
            self.district.actor,
            self.plan.id,
            title="Rà soát địa điểm",
            description="",
            deadline=plans.parse_deadline(deadline, EVENT, clock.now(), TZ) or clock.now(),
            target=Target.parse("level:commune"),
            tz=TZ,
            event_offset_minutes=plans.event_offset(deadline),
        )
        self.task_id = sent.task_id
        await reports.submit_report(
            session, clock, self.binh.actor, self.task_id, TaskState.DONE, None, TZ
        )
        await _delivered(session)
        return self

    async def task(self) -> Task:
        task = await self.session.get(Task, self.task_id, populate_existing=True)
        assert task is not None
        return task

    async def duty(self, member: MemberView) -> TaskAssignment:
        found = await self.session.get(
            TaskAssignment, (self.task_id, member.actor.unit_id), populate_existing=True
        )
        assert found is not None
        return found

    async def move(
        self, who: MemberView, typed: str, quiet: QuietHours | None = None
    ) -> deadlines.Moved:
        proposal = await deadlines.propose(
            self.session, who.actor, self.task_id, self.clock.now(), TZ, text=typed
        )
        return await deadlines.move_deadline(
            self.session,
            self.clock,
            who.actor,
            self.task_id,
            proposal.new,
            expected_old=proposal.old,
            event_offset=proposal.event_offset,
            tz=TZ,
            quiet=quiet,
        )


def test_a_deadline_relative_to_the_event_keeps_its_offset() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert plans.event_offset("event-14d") == -14 * 1440 + 23 * 60 + 59
    assert plans.event_offset("Event -2w 17:00") == -14 * 1440 + 17 * 60
    assert plans.event_offset("event+1d") == 1440 + 23 * 60 + 59
    assert plans.event_offset("event") == 23 * 60 + 59
    for absolute in ("3d", "2026-08-01", "17:00 01/08/2026", "event-1d 25:00", "soon"):
        assert plans.event_offset(absolute) is None
    for typed in (
        "event-14d",
        "event-2w 17:00",
        "event+3d 08:30",
        "14 ngày trước ngày tổ chức",
        "17:00 2 tuần trước ngày tổ chức",
        "3 ngày sau ngày tổ chức 08:30",
    ):
        offset = plans.event_offset(typed)
        assert offset is not None
        moved = date(2026, 8, 26)
        assert plans.from_event(moved, offset, now, TZ) == plans.parse_deadline(
            typed, moved, now, TZ
        )


async def test_the_event_relative_deadline_reads_in_vietnamese_with_or_without_marks() -> None:
    assert plans.event_offset("14 ngày trước ngày tổ chức") == plans.event_offset("event-14d")
    assert plans.event_offset("14 ngay truoc ngay to chuc") == plans.event_offset("event-14d")
    assert plans.event_offset("17:00, 2 TUẦN trước  ngày tổ chức") == plans.event_offset(
        "event-2w 17:00"
    )
    assert plans.event_offset("1 ngày sau ngày tổ chức 08:00") == plans.event_offset(
        "event+1d 08:00"
    )
    assert plans.event_offset("ngày tổ chức") == plans.event_offset("event")
    for unread in (
        "14 ngày trước",  # before what?
        "17:00 ngày tổ chức 08:00",  # two times of day
        "25:00 ngày tổ chức",
        "٥ ngày trước ngày tổ chức",
        "1000 ngày trước ngày tổ chức",
        "14 ngày trước ngày tổ chức " + "x" * 60,
    ):
        assert plans.event_offset(unread) is None, unread


async def test_a_move_tells_pending_units_once_restarts_them_and_keeps_the_old_deadline(
    session: AsyncSession, clock: ManualClock
) -> None:
    world = await World(session, clock).build()
    assert (await world.task()).event_offset_minutes == plans.event_offset("event-14d")
    an_duty = await world.duty(world.an)
    an_duty.last_reminder_due, an_duty.escalation_level = at(2, 8), 2  # a climb under way
    an_duty.escalated_at = an_duty.escalate_from = at(3, 8)
    done_duty = await world.duty(world.binh)
    done_duty.last_reminder_due = at(2, 8)
    await session.flush()
    clock.set(at(4, 8, 10, 0))  # a day before the deadline of 23:59 05/08/2026

    moved = await world.move(world.district, "17:00 12/08/2026")

    assert (moved.old, moved.new) == (at(5, 8), at(12, 8, 17, 0))
    assert (moved.units, moved.members, moved.held_until) == (1, 2, None)
    task = await world.task()
    assert (task.deadline, task.event_offset_minutes) == (at(12, 8, 17, 0), None)  # absolute now
    duty = await world.duty(world.an)
    assert duty.last_reminder_due == clock.now()  # no point before the move goes out again
    assert (duty.escalation_level, duty.escalated_at, duty.escalate_from) == (0, None, None)
    done_duty = await world.duty(world.binh)
    assert done_duty.last_reminder_due == at(2, 8)  # a finished unit is left alone

    notices = await _notices(session, f"task:{world.task_id}:moved:")
    assert sorted(n.chat_id for n in notices) == sorted([world.an.chat_id, world.ba.chat_id])
    body = notices[0].payload["text"]
    assert "DỜI HẠN — nhiệm vụ #" in body
    assert "Hạn mới: 17:00 12/08/2026" in body
    assert "Hạn cũ: 23:59 05/08/2026" in body
    assert notices[0].payload["reply_markup"]["inline_keyboard"][0][0]["text"].startswith("📝")

    audit = list(
        await session.scalars(select(AuditEvent).where(AuditEvent.action == deadlines.TASK_MOVED))
    )
    assert [(a.subject, a.actor_member_id) for a in audit] == [
        (f"task:{world.task_id}", world.district.id)
    ]
    assert audit[0].details["old"] == at(5, 8).isoformat()
    history = await deadlines.history(session, world.district.actor, task)
    assert [(m.old, m.new, m.by) for m in history] == [(at(5, 8), at(12, 8, 17, 0), "Cán bộ")]

    with pytest.raises(DeadlineError, match="deadline.same"):
        await world.move(world.district, "17:00 12/08/2026")
    assert len(await _notices(session, f"task:{world.task_id}:moved:")) == 2  # still once


async def test_after_a_move_reminders_and_escalation_start_again_from_it(
    session: AsyncSession, clock: ManualClock
) -> None:
    world = await World(session, clock).build()
    config = RemindersConfig()
    seen = [0]

    async def sweep(when: datetime) -> list[int]:
        """Run the sweep at ``when``; the chats it wrote to (move notices aside)."""
        clock.set(when)
        await reminders.sweep(session, when, config, TZ)
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > seen[0]).order_by(OutboxMessage.id)
        )
        fresh = list(rows)
        seen[0] = fresh[-1].id if fresh else seen[0]
        return sorted(r.chat_id for r in fresh if ":moved:" not in (r.ref or ""))

    officers = sorted([world.an.chat_id, world.ba.chat_id])
    late = await sweep(at(8, 8, 10, 0))  # three days overdue: told, and the district hears
    assert set(officers) <= set(late)
    assert world.district.chat_id in late
    assert (await world.duty(world.an)).escalation_level == 1

    clock.set(at(8, 8, 10, 5))
    await world.move(world.district, "17:00 20/08/2026")
    assert await sweep(at(8, 8, 10, 10)) == []  # nothing due before the move goes out again
    assert await sweep(at(19, 8, 17, 0)) == officers  # the 1-day point of the new deadline
    assert await sweep(at(19, 8, 17, 10)) == []
    assert (await world.duty(world.an)).escalation_level == 0
    overdue = await sweep(at(20, 8, 19, 30))  # overdue now; the climb starts from the bottom
    assert overdue == sorted([*officers, world.district.chat_id])
    assert (await world.duty(world.an)).escalation_level == 1


async def test_who_may_move_a_deadline(session: AsyncSession, clock: ManualClock) -> None:
    world = await World(session, clock).build()
    before = (await world.task()).deadline
    commune = await make_member(session, clock, "HN-BD-PX", Role.COORDINATOR)
    other_province = await make_member(session, clock, "QN", Role.COORDINATOR)
    observer = await make_member(session, clock, "HN", Role.OBSERVER)
    for who, reason in (
        (world.an, "authz.role_denied"),
        (observer, "authz.role_denied"),
        (commune, "authz.out_of_scope"),  # below the task's issuer: not theirs to move
        (other_province, "authz.out_of_scope"),
    ):
        with pytest.raises(NotAllowed) as refused:
            await world.move(who, "20/08/2026")
        assert refused.value.reason == reason
        assert not await deadlines.can_move(session, who.actor, await world.task())
    assert (await world.task()).deadline == before

    province = await make_member(session, clock, "HN", Role.COORDINATOR)  # above the issuer
    assert await deadlines.can_move(session, province.actor, await world.task())
    await world.move(province, "20/08/2026")
    assert (await world.task()).deadline == at(20, 8)


async def test_a_coordinator_demoted_before_confirming_changes_nothing(
    session: AsyncSession, clock: ManualClock
) -> None:
    world = await World(session, clock).build()
    proposal = await deadlines.propose(
        session, world.district.actor, world.task_id, clock.now(), TZ, text="20/08/2026"
    )
    member = await session.get(Member, world.district.id)
    assert member is not None
    member.role = Role.OFFICER
    await session.flush()
    demoted = view_of(member)
    with pytest.raises(NotAllowed):
        await deadlines.move_deadline(
            session,
            clock,
            demoted.actor,
            world.task_id,
            proposal.new,
            expected_old=proposal.old,
            event_offset=None,
            tz=TZ,
        )
    assert (await world.task()).deadline == proposal.old
    assert await _notices(session, f"task:{world.task_id}:moved:") == []


async def test_the_rules_of_a_new_deadline(session: AsyncSession, clock: ManualClock) -> None:
    world = await World(session, clock).build()
    for typed, key in (
        ("30/06/2026", "deadline.past"),
        ("mai", "deadline.bad_time"),
        ("20/08/2099", "deadline.bad_time"),  # further than ten years: a typo
        ("event-14d", "deadline.same"),
    ):
        with pytest.raises(DeadlineError) as refused:
            await world.move(world.district, typed)
        assert refused.value.key == key, typed
    later = await deadlines.propose(
        session,
        world.district.actor,
        world.task_id,
        clock.now(),
        TZ,
        later_by=timedelta(days=3),
    )
    assert later.new == at(8, 8)
    with pytest.raises(DeadlineError, match="deadline.changed_meanwhile"):
        await deadlines.move_deadline(
            session,
            clock,
            world.district.actor,
            world.task_id,
            later.new,
            expected_old=later.old - timedelta(days=1),  # what a stale form remembers
            event_offset=None,
            tz=TZ,
        )
    await reports.close_task(session, clock, world.district.actor, world.task_id)
    with pytest.raises(DeadlineError, match="deadline.closed"):
        await world.move(world.district, "20/08/2026")
    assert (await world.task()).deadline == at(5, 8)


async def test_at_night_the_notice_waits_and_only_the_latest_move_is_told(
    session: AsyncSession, clock: ManualClock
) -> None:
    world = await World(session, clock).build()
    clock.set(at(1, 7, 22, 0))
    first = await world.move(world.district, "20/08/2026", QUIET)
    assert first.held_until == at(2, 7, 6, 30)
    second = await world.move(world.district, "25/08/2026", QUIET)
    notices = await _notices(session, f"task:{world.task_id}:moved:")
    assert [n.status for n in notices] == [OutboxStatus.CANCELLED] * 2 + [OutboxStatus.PENDING] * 2
    assert all("25/08/2026" in n.payload["text"] for n in notices[2:])
    assert {n.not_before for n in notices[2:]} == {second.held_until}

    soon = await world.move(world.district, "2h", QUIET)  # due before morning: told at once
    assert soon.held_until is None


async def test_a_task_notice_still_held_for_the_morning_shows_the_new_deadline(
    session: AsyncSession, clock: ManualClock
) -> None:
    await make_tree(session, clock)
    district = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
    an = await make_member(session, clock, "HN-BD-PX", name="An")
    plan = await plans.create_plan(
        session, clock, district.actor, code="P1", title="Kế hoạch", event_date=EVENT
    )
    clock.set(at(1, 7, 23, 0))
    sent = await plans.create_task(
        session,
        clock,
        district.actor,
        plan.id,
        title="Treo băng rôn",
        description="",
        deadline=at(10, 7),
        target=Target.parse("list:HN-BD-PX"),
        tz=TZ,
        quiet=QUIET,
    )
    proposal = await deadlines.propose(
        session, district.actor, sent.task_id, clock.now(), TZ, text="12/07/2026"
    )
    moved = await deadlines.move_deadline(
        session,
        clock,
        district.actor,
        sent.task_id,
        proposal.new,
        expected_old=proposal.old,
        event_offset=None,
        tz=TZ,
        quiet=QUIET,
    )
    assert moved.members == 0  # the unit has not heard of the task yet: its notice says it
    held = await _notices(session, f"task:{sent.task_id}:u")
    assert [n.chat_id for n in held] == [an.chat_id]
    assert "23:59 12/07/2026" in held[0].payload["text"]
    assert "reply_markup" in held[0].payload


# -- the event date: plan import --update -----------------------------------------------------

PLAN = """\
code = "333/KH-BCĐ"
title = "Ngày hội toàn dân bảo vệ ANTQ"
event_date = 2026-08-19
owner = "HN"

[[tasks]]
title = "Rà soát địa điểm"
deadline = "event-14d"
assign = "level:commune"

[[tasks]]
title = "Đăng ký mô hình"
deadline = "event-45d"
assign = "level:commune"

[[tasks]]
title = "Tập huấn"
deadline = "event-30d"
assign = "list:HN-BD-PX"

[[tasks]]
title = "Báo cáo sơ kết"
deadline = "2026-08-10 17:00"
assign = "list:HN-BD"
"""


async def _imported(session: AsyncSession, clock: ManualClock) -> dict[str, Task]:
    await make_tree(session, clock)
    for code in ("HN-BD-PX", "HN-BD-PX", "HN-BD-TB"):
        await make_member(session, clock, code)
    spec = plan_import.parse_plan_file("plan.toml", PLAN.encode(), PlanSpec())
    await plan_import.import_plan(session, clock, spec, TZ)
    return await _tasks(session)


async def _tasks(session: AsyncSession) -> dict[str, Task]:
    rows = await session.scalars(select(Task).execution_options(populate_existing=True))
    return {task.title: task for task in rows}


async def test_moving_the_event_moves_the_relative_deadlines_that_have_not_passed(
    session: AsyncSession, clock: ManualClock
) -> None:
    before = await _imported(session, clock)
    assert before["Báo cáo sơ kết"].event_offset_minutes is None
    clock.set(at(10, 7, 9, 0))  # "Đăng ký mô hình" (event-45d: 05/07) has passed
    changed = (
        PLAN.replace("2026-08-19", "2026-08-26")
        + '\n[[tasks]]\ntitle = "Tổng kết"\ndeadline = "event+3d"\nassign = "list:HN-BD-TB"\n'
    )
    spec = plan_import.parse_plan_file("plan.toml", changed.encode(), PlanSpec())

    shown = await plan_import.plan_update(session, clock, spec, TZ)
    assert shown is not None
    assert not shown.empty
    assert (shown.old_event, shown.new_event) == (EVENT, date(2026, 8, 26))
    assert [(c.title, c.old, c.new, c.follows_event) for c in shown.changes.changed] == [
        ("Tập huấn", at(20, 7), at(27, 7), True),
        ("Rà soát địa điểm", at(5, 8), at(12, 8), True),
    ]
    assert [c.title for c in shown.changes.passed] == ["Đăng ký mô hình"]
    assert shown.changes.too_late == ()
    assert shown.added == (("Tổng kết", at(29, 8)),)
    assert (await _tasks(session))["Tập huấn"].deadline == at(20, 7)  # nothing written yet

    done = await plan_import.apply_update(session, clock, spec, TZ, shown)
    after = await _tasks(session)
    assert after["Rà soát địa điểm"].deadline == at(12, 8)
    assert after["Tập huấn"].deadline == at(27, 7)
    assert after["Đăng ký mô hình"].deadline == at(5, 7)  # passed: left
    assert after["Báo cáo sơ kết"].deadline == at(10, 8, 17, 0)  # absolute: stays
    assert after["Tổng kết"].deadline == at(29, 8)  # dated from the new event
    plan = await session.scalar(select(Plan).execution_options(populate_existing=True))
    assert plan is not None
    assert plan.event_date == date(2026, 8, 26)
    assert done.assignments == 1

    # Each officer of a unit with moved deadlines hears once, of all of them.
    moved = await _notices(session, f"plan:{plan.id}:moved:")
    assert len(moved) == 3  # two officers in Phúc Xá, one in Trúc Bạch
    px = [n for n in moved if "Tập huấn" in n.payload["text"]]
    assert len(px) == 2
    assert (
        "DỜI NGÀY TỔ CHỨC — Kế hoạch 333/KH-BCĐ: từ 19/08/2026 sang 26/08/2026"
        in (px[0].payload["text"])
    )
    assert "Hạn mới của 2 nhiệm vụ của đơn vị:" in px[0].payload["text"]
    assert "Đăng ký mô hình" not in px[0].payload["text"]
    events = list(
        await session.scalars(
            select(AuditEvent).where(
                AuditEvent.action.in_([deadlines.TASK_MOVED, deadlines.EVENT_MOVED])
            )
        )
    )
    assert sorted(e.action for e in events) == [
        deadlines.EVENT_MOVED,
        deadlines.TASK_MOVED,
        deadlines.TASK_MOVED,
    ]

    again = await plan_import.plan_update(session, clock, spec, TZ)
    assert again is not None
    assert again.empty  # the file and the plan agree now


async def test_an_event_moved_earlier_leaves_deadlines_that_would_have_passed(
    session: AsyncSession, clock: ManualClock
) -> None:
    await _imported(session, clock)
    clock.set(at(10, 7, 9, 0))
    spec = plan_import.parse_plan_file(
        "plan.toml", PLAN.replace("2026-08-19", "2026-08-05").encode(), PlanSpec()
    )
    shown = await plan_import.plan_update(session, clock, spec, TZ)
    assert shown is not None
    assert [c.title for c in shown.changes.too_late] == ["Tập huấn"]  # 20/07 → 06/07: passed
    assert [c.title for c in shown.changes.changed] == ["Rà soát địa điểm"]
    await plan_import.apply_update(session, clock, spec, TZ, shown)
    assert (await _tasks(session))["Tập huấn"].deadline == at(20, 7)


async def test_without_update_a_moved_event_is_refused(
    session: AsyncSession, clock: ManualClock
) -> None:
    await _imported(session, clock)
    outbox = len(list(await session.scalars(select(OutboxMessage))))
    moved = PLAN.replace("2026-08-19", "2026-08-26") + (
        '\n[[tasks]]\ntitle = "Tổng kết"\ndeadline = "event+3d"\n'
    )
    spec = plan_import.parse_plan_file("plan.toml", moved.encode(), PlanSpec())
    with pytest.raises(PlanImportError) as refused:
        await plan_import.import_plan(session, clock, spec, TZ)
    assert [(e.line, e.key) for e in refused.value.errors] == [(3, "plan_import.event_date_moved")]
    assert refused.value.errors[0].params == {
        "code": "333/KH-BCĐ",
        "old": "19/08/2026",
        "new": "26/08/2026",
    }
    tasks = await _tasks(session)
    assert "Tổng kết" not in tasks
    assert tasks["Rà soát địa điểm"].deadline == at(5, 8)
    assert len(list(await session.scalars(select(OutboxMessage)))) == outbox


async def test_an_update_shown_then_overtaken_is_not_applied(
    session: AsyncSession, clock: ManualClock
) -> None:
    tasks = await _imported(session, clock)
    spec = plan_import.parse_plan_file(
        "plan.toml", PLAN.replace("2026-08-19", "2026-08-26").encode(), PlanSpec()
    )
    shown = await plan_import.plan_update(session, clock, spec, TZ)
    assert shown is not None
    province = await make_member(session, clock, "HN", Role.COORDINATOR)
    task = tasks["Rà soát địa điểm"]
    proposal = await deadlines.propose(
        session, province.actor, task.id, clock.now(), TZ, text="01/08/2026"
    )
    await deadlines.move_deadline(
        session,
        clock,
        province.actor,
        task.id,
        proposal.new,
        expected_old=proposal.old,
        event_offset=None,
        tz=TZ,
    )
    with pytest.raises(PlanImportError) as refused:
        await plan_import.apply_update(session, clock, spec, TZ, shown)
    assert refused.value.errors[0].key == "plan_import.changed_meanwhile"
    plan = await session.scalar(select(Plan).execution_options(populate_existing=True))
    assert plan is not None
    assert plan.event_date == EVENT


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "cli.db"}"\n'
        f'[telegram]\nbot_username = "fieldbot_test_bot"\n',
        encoding="utf-8",
    )
    return path


def test_plan_import_update_shows_asks_and_applies(
    config_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def run(*args: str) -> int:
        return main(["--config", str(config_file), *args])

    units = tmp_path / "units.csv"
    units.write_text(TREE, encoding="utf-8")
    assert run("units", "import", str(units)) == 0
    year = datetime.now(UTC).year + 2  # the command line runs on the real clock
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.replace("2026", str(year)), encoding="utf-8")
    assert run("plan", "import", str(plan)) == 0
    capsys.readouterr()

    plan.write_text(PLAN.replace("2026", str(year)).replace("-08-19", "-08-26"), encoding="utf-8")
    assert run("plan", "import", str(plan)) == 1
    refused = capsys.readouterr().err
    assert f"ngày tổ chức 19/08/{year}, tệp ghi 26/08/{year}" in refused
    assert "--update" in refused

    monkeypatch.setattr(builtins, "input", lambda prompt: "n")
    assert run("plan", "import", str(plan), "--update") == 1
    out = capsys.readouterr().out
    assert f"• Ngày tổ chức: 19/08/{year} → 26/08/{year}" in out
    assert f"• Dời hạn #1 “Rà soát địa điểm”: 23:59 05/08/{year} → 23:59 12/08/{year}" in out
    assert "Chưa thay đổi gì." in out

    assert run("plan", "import", str(plan), "--update", "--yes") == 0
    out = capsys.readouterr().out
    assert f"Đã cập nhật kế hoạch 333/KH-BCĐ: ngày tổ chức 19/08/{year} → 26/08/{year}" in out
    assert "dời hạn 3 nhiệm vụ" in out
    assert run("plan", "import", str(plan), "--update") == 0
    assert "không có gì thay đổi" in capsys.readouterr().out


# -- the migration -------------------------------------------------------------------------


async def test_the_offset_column_comes_and_goes_with_its_migration(fresh_url: str) -> None:
    from alembic import command

    engine = make_engine(fresh_url)
    await upgrade(engine)

    async def columns() -> set[str]:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("tasks")}
            )

    assert "event_offset_minutes" in await columns()
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.downgrade(alembic_config(sync), "0006_reminder_stamps")
        )
    assert "event_offset_minutes" not in await columns()
    await upgrade(engine)
    assert "event_offset_minutes" in await columns()
    await engine.dispose()
