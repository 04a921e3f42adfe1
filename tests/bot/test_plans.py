"""Plans, plan files and reports, called directly with a movable clock (no Telegram)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.services import plan_import, plans, reports
from bot.services.authz import NotAllowed
from bot.services.directives import Target
from bot.services.notes import NoteError
from bot.services.plan_import import PlanImportError, PlanSpec
from bot.services.reports import ReportError
from storage.models import OutboxMessage, Plan, Role, TaskAssignment, TaskReport, TaskState
from tests.factories import make_member, make_tree

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EVENT = date(2030, 8, 19)

PLAN_TOML = """\
code = "333/KH-BCĐ"
title = "Ngày hội toàn dân bảo vệ ANTQ"
event_date = 2030-08-19
owner = "HN"

[[tasks]]
title = "Rà soát địa điểm"
deadline = "event-14d"
assign = "level:commune"

[[tasks]]
title = "Báo cáo sơ kết"
description = "Gửi báo cáo bằng văn bản"
deadline = "event-2w 17:00"
assign = "list:HN-BD"
"""


def test_deadlines_relative_to_the_event_and_absolute() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    at = plans.parse_deadline
    assert at("event-14d", EVENT, now, TZ) == datetime(2030, 8, 5, 23, 59, tzinfo=TZ)
    assert at("event-2w 17:00", EVENT, now, TZ) == datetime(2030, 8, 5, 17, 0, tzinfo=TZ)
    assert at("event", EVENT, now, TZ) == datetime(2030, 8, 19, 23, 59, tzinfo=TZ)
    assert at("event+1d", EVENT, now, TZ) == datetime(2030, 8, 20, 23, 59, tzinfo=TZ)
    assert at("2030-07-01", EVENT, now, TZ) == datetime(2030, 7, 1, 23, 59, tzinfo=TZ)
    assert at("2030-07-01 08:30", EVENT, now, TZ) == datetime(2030, 7, 1, 8, 30, tzinfo=TZ)
    assert at("17:00 01/07/2030", EVENT, now, TZ) == datetime(2030, 7, 1, 17, 0, tzinfo=TZ)
    assert at("event-14x", EVENT, now, TZ) is None
    assert at("event-1d 25:00", EVENT, now, TZ) is None
    assert at("soon", EVENT, now, TZ) is None


async def _setup(session: AsyncSession, clock: ManualClock) -> None:
    await make_tree(session, clock)
    for code in ("HN-BD-PX", "HN-BD-PX", "HN-BD-TB", "QN-HL-BC"):
        await make_member(session, clock, code)


async def test_a_toml_plan_is_imported_and_each_member_hears_once(
    session: AsyncSession, clock: ManualClock
) -> None:
    await _setup(session, clock)
    spec = plan_import.parse_plan_file("plan.toml", PLAN_TOML.encode(), PlanSpec())
    done = await plan_import.import_plan(session, clock, spec, TZ)
    assert (done.created, done.tasks, done.assignments) == (True, 2, 3)
    assert done.notified == 3  # two officers in Phúc Xá, one in Trúc Bạch; Quảng Ninh none
    plan = await session.scalar(select(Plan).where(Plan.code == "333/KH-BCĐ"))
    assert plan is not None
    assert plan.event_date == EVENT
    texts = [r.payload["text"] for r in await session.scalars(select(OutboxMessage))]
    assert all("333/KH-BCĐ" in text and "Rà soát địa điểm" in text for text in texts)

    again = plan_import.parse_plan_file("plan.toml", PLAN_TOML.encode(), PlanSpec())
    with pytest.raises(PlanImportError) as caught:
        await plan_import.import_plan(session, clock, again, TZ)
    assert [(e.line, e.key) for e in caught.value.errors] == [
        (6, "plan_import.task_exists"),
        (11, "plan_import.task_exists"),
    ]


async def test_a_bad_plan_file_is_rejected_whole_with_line_numbers(
    session: AsyncSession, clock: ManualClock
) -> None:
    await _setup(session, clock)
    text = (
        PLAN_TOML.replace('deadline = "event-14d"', 'deadline = "sometime"').replace(
            "list:HN-BD", "list:HN-BD,NOPE"
        )
        + '\n[[tasks]]\ntitle = "Rà soát địa điểm"\ndeadline = "2020-01-01"\n'
    )
    spec = plan_import.parse_plan_file("plan.toml", text.encode(), PlanSpec())
    with pytest.raises(PlanImportError) as caught:
        await plan_import.import_plan(session, clock, spec, TZ)
    assert [(e.line, e.key) for e in caught.value.errors] == [
        (6, "plan_import.bad_deadline"),
        (11, "directive.unknown_units"),
        (17, "plan_import.duplicate_task"),
        (17, "plan_import.deadline_past"),
    ]
    assert await session.scalar(select(func.count()).select_from(Plan)) == 0
    assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

    with pytest.raises(PlanImportError) as caught:
        plan_import.parse_plan_file("plan.toml", b'code = "x"\n[[tasks]\n', PlanSpec())
    assert caught.value.errors[0].line == 2


async def test_a_csv_plan_takes_the_plan_from_options(
    session: AsyncSession, clock: ManualClock
) -> None:
    await _setup(session, clock)
    rows = "title,deadline,assign\nTreo băng rôn,event-3d,level:commune\n\n,event-1d,subtree\n"
    options = PlanSpec("KH-1", "Kế hoạch thử", EVENT, "HN-BD")
    with pytest.raises(PlanImportError) as caught:
        await plan_import.import_plan(
            session, clock, plan_import.parse_plan_file("t.csv", rows.encode(), options), TZ
        )
    assert [(e.line, e.key) for e in caught.value.errors] == [(4, "plan.empty_title")]
    good = rows.replace("\n,event-1d", "\nDọn vệ sinh,event-1d")
    spec = plan_import.parse_plan_file("t.csv", good.encode(), options)
    done = await plan_import.import_plan(session, clock, spec, TZ)
    assert (done.tasks, done.assignments) == (2, 2 + 2)  # subtree of HN-BD: its two communes
    with pytest.raises(PlanImportError) as caught:
        plan_import.parse_plan_file("t.csv", b"name,when\nx,y\n", options)
    assert caught.value.errors[0].key == "plan_import.missing_columns"


async def _one_task(session: AsyncSession, clock: ManualClock, days: int = 3) -> int:
    coordinator = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
    plan = await plans.create_plan(
        session, clock, coordinator.actor, code="P1", title="Kế hoạch", event_date=EVENT
    )
    sent = await plans.create_task(
        session,
        clock,
        coordinator.actor,
        plan.id,
        title="Rà soát",
        description="",
        deadline=clock.now() + timedelta(days=days),
        target=Target.parse("level:commune"),
        tz=TZ,
    )
    return sent.task_id


async def test_reports_keep_history_and_the_latest_is_the_status(
    session: AsyncSession, clock: ManualClock
) -> None:
    await make_tree(session, clock)
    task_id = await _one_task(session, clock)
    officer = await make_member(session, clock, "HN-BD-PX", name="An")
    await reports.submit_report(
        session, clock, officer.actor, task_id, TaskState.IN_PROGRESS, 50, TZ
    )
    clock.advance(timedelta(days=4))  # past the deadline
    written = clock.now() - timedelta(days=2)  # but written before it, while offline
    on_time = await reports.submit_report(
        session, clock, officer.actor, task_id, TaskState.DONE, 30, TZ, member_time=written
    )
    assert (on_time.progress, on_time.late) == (100, False)  # done is always 100 %
    late = await reports.submit_report(
        session, clock, officer.actor, task_id, TaskState.DONE, None, TZ
    )
    assert late.late
    history = list(await session.scalars(select(TaskReport).order_by(TaskReport.id)))
    assert [(r.state, r.late) for r in history] == [
        ("in_progress", False),
        ("done", False),
        ("done", True),
    ]
    assignment = await session.get(TaskAssignment, (task_id, officer.actor.unit_id))
    assert assignment is not None
    assert (assignment.state, assignment.late) == ("done", True)

    with pytest.raises(ReportError, match="report.superseded"):
        await reports.add_to_report(session, clock, officer.actor, on_time.report_id, TZ, note="x")
    with pytest.raises(ReportError, match="report.bad_progress"):
        await reports.submit_report(
            session, clock, officer.actor, task_id, TaskState.BLOCKED, 101, TZ
        )
    with pytest.raises(NoteError, match="report.note_too_long"):
        await reports.submit_report(
            session, clock, officer.actor, task_id, TaskState.DONE, None, TZ, note="x" * 12_001
        )


async def test_who_may_report_return_and_close(session: AsyncSession, clock: ManualClock) -> None:
    await make_tree(session, clock)
    task_id = await _one_task(session, clock)
    outsider = await make_member(session, clock, "QN-HL-BC")
    with pytest.raises(ReportError, match="report.not_assigned"):
        await reports.submit_report(session, clock, outsider.actor, task_id, TaskState.DONE, 0, TZ)
    officer = await make_member(session, clock, "HN-BD-PX")
    with pytest.raises(NotAllowed):
        await reports.close_task(session, clock, officer.actor, task_id)
    other_coordinator = await make_member(session, clock, "QN", Role.COORDINATOR)
    with pytest.raises(NotAllowed):
        await reports.return_report(
            session, clock, other_coordinator.actor, task_id, officer.actor.unit_id or 0, "?", TZ
        )
    province = await make_member(session, clock, "HN", Role.COORDINATOR)
    await reports.close_task(session, clock, province.actor, task_id)
    with pytest.raises(ReportError, match="report.closed"):
        await reports.submit_report(session, clock, officer.actor, task_id, TaskState.DONE, 0, TZ)


def test_attachments_are_checked_by_kind_and_size() -> None:
    reports.check_attachment("photo", 5 * 2**20, None)
    reports.check_attachment("document", 19 * 2**20, "Báo cáo.PDF")
    with pytest.raises(ReportError, match="report.photo_too_large"):
        reports.check_attachment("photo", 11 * 2**20, None)
    with pytest.raises(ReportError, match="report.file_too_large"):
        reports.check_attachment("document", 21 * 2**20, "a.pdf")
    for name in ("setup.exe", "noextension", None):
        with pytest.raises(ReportError, match="report.wrong_file_type"):
            reports.check_attachment("document", 100, name)


async def test_a_plan_file_may_set_its_own_reminder_timing(
    session: AsyncSession, clock: ManualClock
) -> None:
    await _setup(session, clock)
    bad = PLAN_TOML + '\n[reminders]\ntask_offsets = ["7d", "0s"]\n'
    with pytest.raises(PlanImportError) as caught:
        await plan_import.import_plan(
            session, clock, plan_import.parse_plan_file("p.toml", bad.encode(), PlanSpec()), TZ
        )
    assert [(e.line, e.key) for e in caught.value.errors] == [(17, "plan.bad_reminders")]
    good = PLAN_TOML + '\n[reminders]\ntask_offsets = ["7d", "1d"]\noverdue_every = "2d"\n'
    spec = plan_import.parse_plan_file("p.toml", good.encode(), PlanSpec())
    await plan_import.import_plan(session, clock, spec, TZ)
    plan = await session.scalar(select(Plan).where(Plan.code == "333/KH-BCĐ"))
    assert plan.settings == {"reminders": {"task_offsets": ["7d", "1d"], "overdue_every": "2d"}}


async def test_tasks_assigned_at_night_reach_the_units_in_the_morning(
    session: AsyncSession, clock: ManualClock
) -> None:
    from datetime import time

    from bot.services.quiet import QuietHours

    await _setup(session, clock)
    quiet = QuietHours(time(21, 30), time(6, 30), TZ)
    clock.set(datetime(2030, 7, 1, 22, 0, tzinfo=TZ))
    spec = plan_import.parse_plan_file("plan.toml", PLAN_TOML.encode(), PlanSpec())
    await plan_import.import_plan(session, clock, spec, TZ, quiet)
    morning = datetime(2030, 7, 2, 6, 30, tzinfo=TZ)
    rows = list(await session.scalars(select(OutboxMessage)))
    assert {r.not_before for r in rows} == {morning}
    coordinator = await make_member(session, clock, "HN", Role.COORDINATOR)
    plan = await session.scalar(select(Plan).where(Plan.code == "333/KH-BCĐ"))
    sent = await plans.create_task(
        session,
        clock,
        coordinator.actor,
        plan.id,
        title="Treo băng rôn",
        description="",
        deadline=clock.now() + timedelta(days=5),
        target=Target.parse("list:HN-BD-TB"),
        tz=TZ,
        quiet=quiet,
    )
    assert sent.held_until == morning
    clock.set(datetime(2030, 7, 2, 9, 0, tzinfo=TZ))  # by day nothing waits
    sent = await plans.create_task(
        session,
        clock,
        coordinator.actor,
        plan.id,
        title="Kiểm tra loa đài",
        description="",
        deadline=clock.now() + timedelta(days=5),
        target=Target.parse("list:HN-BD-TB"),
        tz=TZ,
        quiet=quiet,
    )
    assert sent.held_until is None
