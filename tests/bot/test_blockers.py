"""Blockers with an owner and an end, and blocker alerts grouped within a window: called
directly with a movable clock on the small test tree (tests/bot/test_reminders.py ``World``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import callbacks
from bot.core.clock import ManualClock
from bot.core.config import RemindersConfig
from bot.services import blockers, digests, reports
from bot.services.authz import NotAllowed
from bot.services.blockers import WINDOW, BlockerError
from bot.services.quiet import QuietHours
from storage.models import OutboxMessage, OutboxStatus, Role, TaskAssignment, TaskState
from storage.repositories.units import UnitRepository
from tests.bot.test_reminders import World
from tests.factories import make_member

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = RemindersConfig()
DAY = timedelta(days=1)


class Blocked(World):
    async def block(self, who: int = 0, note: str = "", tb: bool = False) -> int:
        member = self.tb if tb else self.px[who]
        done = await reports.submit_report(
            self.session,
            self.clock,
            member.actor,
            self.task_id,
            TaskState.BLOCKED,
            25,
            TZ,
            note=note,
        )
        return done.report_id

    async def deliver(self) -> None:
        """What the outbox sender would have sent by now."""
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.not_before <= self.clock.now(),
            )
            .values(status=OutboxStatus.SENT)
            .execution_options(synchronize_session=False)
        )

    async def unit_id(self, code: str) -> int:
        unit = await UnitRepository(self.session).get_by_code(code)
        assert unit is not None
        return unit.id


@pytest.fixture
async def world(session: AsyncSession, clock: ManualClock) -> Blocked:
    built = Blocked(session, clock)
    await built.build()
    return built


def _texts(rows: list[OutboxMessage], member_id: int) -> list[str]:
    return [r.payload["text"] for r in rows if r.member_id == member_id]


async def test_the_first_blocker_goes_at_once_the_next_ones_in_one_message(world: Blocked) -> None:
    w = world
    await w.block(note="Thiếu kinh phí")
    (alert,) = [r for r in await w.inbox.new() if r.member_id == w.district.id]
    assert alert.not_before == w.clock.now()
    text = alert.payload["text"]
    assert text.startswith("⛔ ĐƠN VỊ GẶP KHÓ KHĂN — nhiệm vụ #")
    assert "Khó khăn, vướng mắc: Thiếu kinh phí" in text
    labels = [b["text"] for row in alert.payload["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[0] == "✋ Đã nắm"
    await w.deliver()

    w.clock.advance(timedelta(minutes=2))
    await w.block(tb=True)  # no note yet
    w.clock.advance(timedelta(minutes=1))
    await w.block(who=1, note="Mất điện")  # the second officer of Phúc Xá: the same unit
    rows = await w.inbox.new()
    (follow_up,) = {r.id: r for r in rows if r.member_id == w.district.id}.values()
    assert follow_up.ref == f"blockers:m{w.district.id}"
    assert follow_up.not_before == alert.not_before + WINDOW
    text = follow_up.payload["text"]
    assert "2 mục mới trong 10 phút qua" in text
    assert "Công an phường Trúc Bạch (HN-BD-TB)" in text
    assert "Mất điện" in text
    assert "(không có ghi chú)" not in text
    # after the window, the next one goes at once again
    w.clock.set(follow_up.not_before + WINDOW)
    await w.deliver()
    await w.block(note="Lại thiếu")
    (again,) = [r for r in await w.inbox.new() if r.member_id == w.district.id]
    assert (again.ref or "").startswith(f"blocker:m{w.district.id}:")


async def test_a_note_joins_the_message_that_still_waits_or_goes_on_by_itself(
    world: Blocked,
) -> None:
    w = world
    first = await w.block()  # without a note: no note line, never "(không có ghi chú)"
    (alert,) = [r for r in await w.inbox.new() if r.member_id == w.district.id]
    assert "Khó khăn, vướng mắc:" not in alert.payload["text"]
    assert "không có ghi chú" not in alert.payload["text"]
    # the note comes while the alert still waits in the outbox: it is written into it
    await reports.add_to_report(
        w.session, w.clock, w.px[0].actor, first, TZ, note="Thiếu kinh phí thuê âm thanh"
    )
    assert not await w.inbox.new()
    await w.session.refresh(alert)
    assert "Khó khăn, vướng mắc: Thiếu kinh phí thuê âm thanh" in alert.payload["text"]
    await w.deliver()
    # once sent, a note goes on by itself (no follow-up is waiting)
    await reports.add_to_report(w.session, w.clock, w.px[0].actor, first, TZ, note="Thêm 1")
    (more,) = _texts(await w.inbox.new(), w.district.id)
    assert "Thêm 1" in more
    # a follow-up waiting: the note joins it as a line
    w.clock.advance(timedelta(minutes=1))
    await w.block(tb=True, note="Chưa có địa điểm")
    await reports.add_to_report(w.session, w.clock, w.px[0].actor, first, TZ, note="Thêm 2")
    rows = await w.inbox.new()
    (follow_up,) = {r.id: r for r in rows if r.member_id == w.district.id}.values()
    await w.session.refresh(follow_up)
    text = follow_up.payload["text"]
    assert "Chưa có địa điểm" in text
    assert "Công an phường Phúc Xá bổ sung: Thiếu kinh phí thuê âm thanh Thêm 1 Thêm 2" in text


async def test_take_then_resolve_tells_the_unit_and_refuses_what_does_not_stand(
    world: Blocked,
) -> None:
    w = world
    px = await w.unit_id("HN-BD-PX")
    quiet = QuietHours.within(CONFIG, TZ)
    with pytest.raises(BlockerError) as refused:  # nothing is blocked yet
        await blockers.take(w.session, w.clock, w.district.actor, w.task_id, px, TZ, quiet)
    assert refused.value.key == "alerts.not_blocked"
    await w.block(note="Thiếu kinh phí")
    await w.inbox.new()
    with pytest.raises(NotAllowed):  # an officer
        await blockers.take(w.session, w.clock, w.px[0].actor, w.task_id, px, TZ, quiet)
    qn = await make_member(w.session, w.clock, "QN", Role.COORDINATOR, name="Tỉnh QN")
    with pytest.raises(NotAllowed):  # a coordinator elsewhere
        await blockers.take(w.session, w.clock, qn.actor, w.task_id, px, TZ, quiet)
    with pytest.raises(BlockerError) as refused:  # a forged pair: no such assignment
        await blockers.take(w.session, w.clock, w.district.actor, w.task_id, 999_999, TZ, quiet)
    assert refused.value.key == "alerts.not_found"

    done = await blockers.take(w.session, w.clock, w.district.actor, w.task_id, px, TZ, quiet)
    assert (done.unit_name, done.told) == ("Công an phường Phúc Xá", 2)
    notices = await w.inbox.new()
    assert {r.member_id for r in notices} == {m.id for m in w.px}
    assert all("Quận BĐ đã nắm" in r.payload["text"] for r in notices)
    for who in (w.district, w.province):  # taken twice: said so, nothing changes
        with pytest.raises(BlockerError) as refused:
            await blockers.take(w.session, w.clock, who.actor, w.task_id, px, TZ, quiet)
        assert refused.value.key == (
            "alerts.already_yours" if who is w.district else "alerts.already_taken"
        )
    assert not await w.inbox.new()

    with pytest.raises(BlockerError) as refused:
        await blockers.resolve(w.session, w.clock, w.district.actor, w.task_id, px, " ", TZ, quiet)
    assert refused.value.key == "alerts.resolution_needed"
    night = datetime(2026, 7, 1, 23, 0, tzinfo=TZ)
    w.clock.set(night)
    await blockers.resolve(
        w.session, w.clock, w.district.actor, w.task_id, px, "Đã cấp kinh phí", TZ, quiet
    )
    notices = await w.inbox.new()
    assert {r.member_id for r in notices} == {m.id for m in w.px}
    assert all("ĐÃ GỠ VƯỚNG MẮC" in r.payload["text"] for r in notices)
    assert all("Đã cấp kinh phí" in r.payload["text"] for r in notices)
    assert all(r.not_before == datetime(2026, 7, 2, 6, 30, tzinfo=TZ) for r in notices)  # night
    with pytest.raises(BlockerError):  # resolved already
        await blockers.resolve(w.session, w.clock, w.district.actor, w.task_id, px, "x", TZ, quiet)
    assignment = await w.session.get(TaskAssignment, (w.task_id, px))
    assert assignment is not None
    assert assignment.blocker_resolution == "Đã cấp kinh phí"
    assert assignment.escalate_from == w.clock.now()  # the climb starts again from here
    # blocked again: a new blocker, nobody holds it
    await w.block(note="Lại thiếu")
    await w.session.refresh(assignment)
    assert assignment.blocker_taken_by_id is None
    assert assignment.blocker_resolved_at is None


async def test_a_taken_blocker_does_not_climb_and_the_digest_counts_open_ones(
    world: Blocked,
) -> None:
    w = world
    px = await w.unit_id("HN-BD-PX")
    await w.block(note="Thiếu kinh phí")
    await w.block(tb=True, note="Mất điện")
    await w.inbox.new()
    await blockers.take(w.session, w.clock, w.district.actor, w.task_id, px, TZ)
    await w.sweep_at(w.deadline + timedelta(hours=2))
    to_district = _texts(await w.inbox.new(), w.district.id)
    assert len(to_district) == 1
    assert "Trúc Bạch" in to_district[0]
    assert "Phúc Xá" not in to_district[0]  # taken: it stays with the district

    morning = datetime(2026, 7, 7, 7, 0, tzinfo=TZ)
    w.clock.set(morning)
    assert await digests.send_digests(w.session, morning, CONFIG, TZ) >= 1
    rows = {r.member_id: r.payload["text"] for r in await w.inbox.new()}
    assert "⛔ 1 vướng mắc chưa xử lý, 1 đang xử lý:" in rows[w.district.id]
    line = f"Công an phường Phúc Xá — #{w.task_id} Rà soát địa điểm (đang xử lý)"
    assert line in rows[w.district.id]


def test_blocker_buttons_round_trip_and_forged_ones_decode_to_nothing() -> None:
    for verb in ("take", "resolve"):
        payload = callbacks.BlockerAction(12, 345, verb)
        assert callbacks.decode(callbacks.encode(payload)) == payload
    assert callbacks.encode(callbacks.BlockerAction(12, 345, "take")) == "bt:12:345"
    for forged in ("bt:0:1", "bt:1", "bx:1:-2", "bt:01:2", "bq:1:2", "bt:1:2:3"):
        assert callbacks.decode(forged) is None
