"""Reports that read right: a report sent back keeps its true state and still owes a new one;
progress that goes back needs a reason, which the coordinators above hear (after quiet hours).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.config import RemindersConfig
from bot.services import plans, reminders, reports, task_views
from bot.services.directives import Target
from bot.services.quiet import QuietHours
from bot.services.reports import ReasonNeeded, ReportKind, TaskState
from handlers.my_tasks import deadline_phrase
from handlers.typed_report import parse_typed
from storage.models import OutboxMessage, Role
from storage.repositories.tasks import TaskRepository
from tests.factories import make_member, make_tree

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
QUIET = QuietHours.within(RemindersConfig(), TZ)  # 21:30 to 06:30


class Unit:
    """One commune with an officer, its district's coordinator, and one task for the commune."""

    def __init__(self, session: AsyncSession, clock: ManualClock) -> None:
        self.session, self.clock = session, clock
        self.seen = 0

    async def build(self) -> None:
        s, c = self.session, self.clock
        await make_tree(s, c)
        self.officer = await make_member(s, c, "HN-BD-PX", name="An")
        self.district = await make_member(s, c, "HN-BD", Role.COORDINATOR, name="Hoa")
        self.province = await make_member(s, c, "HN", Role.COORDINATOR, name="Phong")
        plan = await plans.create_plan(
            s, c, self.district.actor, code="12/KH-CAQ", title="Ngày hội", event_date=c.now().date()
        )
        self.deadline = c.now() + timedelta(days=3)
        sent = await plans.create_task(
            s,
            c,
            self.district.actor,
            plan.id,
            title="Danh sách khách mời",
            description="",
            deadline=self.deadline,
            target=Target.parse("list:HN-BD-PX"),
            tz=TZ,
        )
        self.task_id = sent.task_id
        await self.new_rows()

    async def new_rows(self) -> list[OutboxMessage]:
        rows = list(
            await self.session.scalars(
                select(OutboxMessage).where(OutboxMessage.id > self.seen).order_by(OutboxMessage.id)
            )
        )
        if rows:
            self.seen = rows[-1].id
        return rows

    async def report(
        self, state: TaskState, progress: int | None = None, note: str = ""
    ) -> reports.Reported:
        return await reports.submit_report(
            self.session,
            self.clock,
            self.officer.actor,
            self.task_id,
            state,
            progress,
            TZ,
            note=note,
            quiet=QUIET,
        )

    async def send_back(self, comment: str = "Thiếu chức vụ khách mời") -> None:
        await reports.return_report(
            self.session,
            self.clock,
            self.district.actor,
            self.task_id,
            self.officer.actor.unit_id,
            comment,
            TZ,
            QUIET,
        )

    async def assignment(self) -> tuple[str, int, datetime | None]:
        found = await TaskRepository(self.session).assignment(
            self.task_id, self.officer.actor.unit_id
        )
        assert found is not None
        await self.session.refresh(found)
        return found.state, found.progress, found.returned_at

    async def line(self) -> task_views.TaskLine:
        (line,) = await task_views.my_tasks(self.session, self.officer.actor, self.clock.now())
        return line


@pytest.fixture
async def unit(session: AsyncSession, clock: ManualClock) -> Unit:
    built = Unit(session, clock)
    await built.build()
    return built


def at_local(day: datetime, hour: int, minute: int) -> datetime:
    local = day.astimezone(TZ).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return local.astimezone(UTC)


async def test_a_done_report_sent_back_stays_done_and_owes_a_new_report(unit: Unit) -> None:
    await unit.report(TaskState.DONE)
    await unit.send_back()

    state, progress, returned_at = await unit.assignment()
    assert (state, progress) == (TaskState.DONE, 100)  # not a made-up "Đang thực hiện"
    assert returned_at == unit.clock.now()
    assert (
        reports.standing("vi", state, progress, returned=True)
        == "Hoàn thành, 100% — đã được yêu cầu bổ sung"
    )
    history = await TaskRepository(unit.session).history(unit.task_id, unit.officer.actor.unit_id)
    assert [(r.kind, r.state) for r in history] == [
        (ReportKind.REPORT, TaskState.DONE),
        (ReportKind.RETURN, TaskState.DONE),
    ]

    line = await unit.line()
    assert (line.state, line.returned) == (TaskState.DONE, True)
    assert deadline_phrase("vi", line) == "còn 3 ngày"  # owes a report: not "đã hoàn thành"
    unit.clock.set(unit.deadline + timedelta(hours=2))
    line = await unit.line()
    assert line.overdue
    assert deadline_phrase("vi", line) == "quá hạn 2 giờ"

    status = await task_views.task_status(
        unit.session, unit.district.actor, unit.task_id, unit.clock.now()
    )
    assert (status.rollup.done, status.rollup.returned, status.rollup.units) == (0, 1, 1)
    (standing,) = status.standings
    assert (standing.state, standing.returned) == (TaskState.DONE, True)

    await unit.report(TaskState.DONE, note="Đã bổ sung chức vụ")  # reports again: done again
    assert (await unit.assignment())[2] is None
    status = await task_views.task_status(
        unit.session, unit.district.actor, unit.task_id, unit.clock.now()
    )
    assert (status.rollup.done, status.rollup.returned) == (1, 0)
    assert deadline_phrase("vi", await unit.line()) == "đã hoàn thành"


async def test_an_in_progress_report_sent_back_keeps_its_state_and_progress(unit: Unit) -> None:
    await unit.report(TaskState.IN_PROGRESS, 60)
    await unit.send_back("Gửi kèm ảnh hội trường")
    assert (await unit.assignment())[:2] == (TaskState.IN_PROGRESS, 60)
    assert (await unit.line()).return_comment == "Gửi kèm ảnh hội trường"


async def test_a_send_back_at_night_reaches_the_unit_in_the_morning(unit: Unit) -> None:
    await unit.report(TaskState.DONE)
    await unit.new_rows()
    unit.clock.set(at_local(unit.clock.now(), 23, 10))
    await unit.send_back()
    (notice,) = await unit.new_rows()
    assert notice.member_id == unit.officer.id
    assert "YÊU CẦU BỔ SUNG" in notice.payload["text"]
    assert notice.not_before == at_local(unit.clock.now() + timedelta(hours=8), 6, 30)
    assert notice.ref == f"task:{unit.task_id}:returned:u{unit.officer.actor.unit_id}"


async def test_progress_going_back_needs_a_reason_and_nothing_is_kept_without_one(
    unit: Unit,
) -> None:
    await unit.report(TaskState.IN_PROGRESS, 75)
    await unit.new_rows()
    with pytest.raises(ReasonNeeded) as asked:
        await unit.report(TaskState.IN_PROGRESS, 25)
    assert (asked.value.old, asked.value.new, asked.value.state) == (75, 25, TaskState.IN_PROGRESS)
    with pytest.raises(ReasonNeeded):
        await unit.report(TaskState.IN_PROGRESS, 25, note="  \u200b ")  # invisible: no reason
    assert (await unit.assignment())[:2] == (TaskState.IN_PROGRESS, 75)
    assert await unit.new_rows() == []
    history = await TaskRepository(unit.session).history(unit.task_id, unit.officer.actor.unit_id)
    assert len(history) == 1


async def test_progress_going_back_with_a_reason_tells_the_coordinators_above(unit: Unit) -> None:
    await unit.report(TaskState.IN_PROGRESS, 75)
    await unit.new_rows()
    done = await unit.report(TaskState.IN_PROGRESS, 25, note="Mưa bão làm hỏng sân khấu")
    assert done.regressed_to == 1
    assert (await unit.assignment())[:2] == (TaskState.IN_PROGRESS, 25)
    (alert,) = await unit.new_rows()
    assert alert.member_id == unit.district.id  # the parent's coordinator, not the province
    text = alert.payload["text"]
    assert "TIẾN ĐỘ GIẢM — nhiệm vụ #" in text
    assert "Tiến độ: 75% → 25% (Đang thực hiện)" in text
    assert "Lý do: Mưa bão làm hỏng sân khấu" in text
    assert f"/task {unit.task_id} HN-BD-PX" in text
    assert alert.not_before == unit.clock.now()  # the day: at once
    labels = [b["text"] for row in alert.payload["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["↩️ Yêu cầu bổ sung", "📜 Lịch sử báo cáo"]


async def test_a_drop_reported_at_night_reaches_the_coordinator_in_the_morning(
    unit: Unit,
) -> None:
    await unit.report(TaskState.IN_PROGRESS, 75)
    unit.clock.set(at_local(unit.clock.now(), 22, 0))
    await unit.new_rows()
    await unit.report(TaskState.IN_PROGRESS, 50, note="Phải làm lại")
    (alert,) = await unit.new_rows()
    assert alert.not_before == at_local(unit.clock.now() + timedelta(hours=9), 6, 30)


async def test_what_counts_as_going_back(unit: Unit) -> None:
    await unit.report(TaskState.IN_PROGRESS, 25)  # the first report: nothing to go back from
    await unit.report(TaskState.IN_PROGRESS, 75)  # forward
    await unit.report(TaskState.IN_PROGRESS, 75, note="Ổn định")  # the same figure
    await unit.report(TaskState.DONE)
    with pytest.raises(ReasonNeeded):
        await unit.report(TaskState.NOT_STARTED)  # 100% → 0%
    with pytest.raises(ReasonNeeded):
        await unit.report(TaskState.IN_PROGRESS, 90)  # done → 90%
    await unit.new_rows()
    # A blocker that goes back says so in its own urgent alert, with the reason as its note.
    blocked = await unit.report(TaskState.BLOCKED, 50, note="Thiếu kinh phí")
    assert (blocked.escalated_to, blocked.regressed_to) == (1, 0)
    (alert,) = await unit.new_rows()
    assert "GẶP KHÓ KHĂN" in alert.payload["text"]
    assert "Thiếu kinh phí" in alert.payload["text"]


async def test_a_typed_report_without_progress_keeps_the_units_progress(unit: Unit) -> None:
    assert parse_typed("vi", [str(unit.task_id), "đang"]) == (
        unit.task_id,
        TaskState.IN_PROGRESS,
        None,
        "",
    )
    first = await reports.submit_report(
        unit.session,
        unit.clock,
        unit.officer.actor,
        unit.task_id,
        TaskState.IN_PROGRESS,
        None,
        TZ,
        default_progress=50,
    )
    assert first.progress == 50  # never reported: the default of a typed "đang"
    await unit.report(TaskState.IN_PROGRESS, 75)
    kept = await unit.report(TaskState.BLOCKED, None, note="Chờ kinh phí")  # "/report N vướng"
    assert kept.progress == 75  # not 0%, and so no reason is asked for
    with pytest.raises(ReasonNeeded):
        await unit.report(TaskState.IN_PROGRESS, 25)  # "/report N đang 25" at 75%


async def test_a_done_report_sent_back_is_still_reminded_as_not_finished(unit: Unit) -> None:
    await unit.report(TaskState.DONE)
    await unit.send_back()
    await unit.new_rows()
    unit.clock.set(unit.deadline)
    await reminders.sweep(unit.session, unit.deadline, RemindersConfig(), TZ)
    assert unit.officer.id in {row.member_id for row in await unit.new_rows()}
