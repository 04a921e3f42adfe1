"""A grouped blocker follow-up still waiting when its task is closed is withdrawn; one that
also carries another task's blockers is rewritten without the closed one's."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import callbacks
from bot.core.clock import ManualClock
from bot.services import blockers, plans, reports
from bot.services.blockers import WINDOW
from bot.services.directives import Target
from bot.services.members import MemberView
from storage.models import OutboxMessage, OutboxStatus, TaskState
from tests.bot.test_blockers import Blocked

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class TwoTasks(Blocked):
    async def second_task(self) -> int:
        sent = await plans.create_task(
            self.session,
            self.clock,
            self.committee.actor,
            self.plan.id,
            title="In khẩu hiệu",
            description="",
            deadline=self.deadline,
            target=Target.parse("level:commune"),
            tz=TZ,
        )
        await self.inbox.new()
        return sent.task_id

    async def block_on(self, member: MemberView, task_id: int, note: str = "") -> None:
        await reports.submit_report(
            self.session, self.clock, member.actor, task_id, TaskState.BLOCKED, 25, TZ, note=note
        )

    async def to_district(self) -> list[OutboxMessage]:
        return [r for r in await self.inbox.new() if r.member_id == self.district.id]


@pytest.fixture
async def world(session: AsyncSession, clock: ManualClock) -> TwoTasks:
    built = TwoTasks(session, clock)
    await built.build()
    return built


async def test_closing_the_task_withdraws_its_waiting_follow_up(world: TwoTasks) -> None:
    w = world
    await w.block_on(w.px[0], w.task_id, note="Thiếu kinh phí")
    (alert,) = await w.to_district()
    await w.deliver()
    w.clock.advance(timedelta(minutes=2))
    await w.block_on(w.tb, w.task_id, note="Mất điện")
    (follow_up,) = await w.to_district()
    assert follow_up.ref == f"blockers:m{w.district.id}"
    assert follow_up.status == OutboxStatus.PENDING

    w.clock.advance(timedelta(minutes=1))
    await reports.close_task(w.session, w.clock, w.committee.actor, w.task_id, tz=TZ)
    await w.session.refresh(follow_up)
    assert follow_up.status == OutboxStatus.CANCELLED
    await w.session.refresh(alert)
    assert alert.status == OutboxStatus.SENT  # what went out stays as it was

    # the withdrawn follow-up told nobody: a blocker on another task still within the window
    # of the first alert waits for that window, not for one after the withdrawn row
    other = await w.second_task()
    await w.block_on(w.bc, other)  # Quảng Ninh: another coordinator, nobody here
    await w.block_on(w.px[1], other, note="Chưa có mẫu")
    (again,) = await w.to_district()
    assert again.ref == f"blockers:m{w.district.id}"
    assert again.not_before == alert.not_before + WINDOW
    assert "Chưa có mẫu" in again.payload["text"]
    assert "Rà soát địa điểm" not in again.payload["text"]


async def test_a_follow_up_carrying_another_task_is_rewritten_without_the_closed_one(
    world: TwoTasks,
) -> None:
    w = world
    other = await w.second_task()
    await w.block_on(w.px[0], w.task_id)
    assert len(await w.to_district()) == 1  # the first alert, at once
    await w.deliver()
    w.clock.advance(timedelta(minutes=2))
    await w.block_on(w.tb, w.task_id, note="Mất điện")
    await w.block_on(w.px[1], other, note="Chưa có mẫu khẩu hiệu")
    (follow_up,) = {r.id: r for r in await w.to_district()}.values()
    await w.session.refresh(follow_up)
    assert "Rà soát địa điểm" in follow_up.payload["text"]
    assert "In khẩu hiệu" in follow_up.payload["text"]

    await reports.close_task(w.session, w.clock, w.committee.actor, w.task_id, tz=TZ)
    await w.session.refresh(follow_up)
    assert follow_up.status == OutboxStatus.PENDING
    text = follow_up.payload["text"]
    assert "Rà soát địa điểm" not in text
    assert "Mất điện" not in text
    assert "Chưa có mẫu khẩu hiệu" in text
    rows = follow_up.payload["reply_markup"]["inline_keyboard"]
    taken = [callbacks.decode(b["callback_data"]) for row in rows for b in row]
    assert taken == [callbacks.BlockerAction(other, await w.unit_id("HN-BD-PX"), "take")]


async def test_withdrawing_leaves_what_the_sender_has_taken(world: TwoTasks) -> None:
    w = world
    await w.block_on(w.px[0], w.task_id)
    await w.to_district()
    await w.deliver()
    w.clock.advance(timedelta(minutes=2))
    await w.block_on(w.tb, w.task_id)
    (follow_up,) = await w.to_district()
    follow_up.status = OutboxStatus.SENDING  # the sender took it a moment before the close
    await w.session.flush()
    await reports.close_task(w.session, w.clock, w.committee.actor, w.task_id, tz=TZ)
    assert await blockers.task_closed(w.session, w.task_id, TZ) == 0
    await w.session.refresh(follow_up)
    assert follow_up.status == OutboxStatus.SENDING
