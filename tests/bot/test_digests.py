"""The daily digest: each coordinator hears about their own part of the tree, once a day."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.config import RemindersConfig
from bot.services import digests, directives
from bot.services.directives import Target
from storage.models import Member, Role, TaskState
from storage.repositories.counts import CountRepository
from tests.bot.test_reminders import World
from tests.factories import make_member

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = RemindersConfig()


def test_the_digest_is_due_from_its_time_of_day_outside_quiet_hours() -> None:
    day = datetime(2026, 7, 2, 6, 59, tzinfo=TZ)
    assert digests.digest_due(CONFIG, TZ, day) is None
    assert digests.digest_due(CONFIG, TZ, day + timedelta(minutes=1)) == day + timedelta(minutes=1)
    assert digests.digest_due(CONFIG, TZ, day + timedelta(hours=12)) == day + timedelta(minutes=1)
    assert digests.digest_due(CONFIG, TZ, day.replace(hour=22)) is None  # quiet: tomorrow's
    early = replace(CONFIG, digest_time=time(5, 0))  # inside quiet hours: waits for 06:30
    assert digests.digest_due(early, TZ, day.replace(hour=5, minute=30)) is None
    assert digests.digest_due(early, TZ, day.replace(hour=6, minute=30)) == day.replace(
        hour=5, minute=0
    )


async def test_each_coordinator_gets_their_subtree_once_a_day(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    await w.build()
    quiet_one = await make_member(session, clock, "QN", Role.COORDINATOR, name="Tỉnh QN")
    await w.report(w.px[0], TaskState.BLOCKED, 20)
    tb = await session.get(Member, w.tb.id)
    tb.unreachable_since = clock.now()
    await directives.send_directive(
        session,
        clock,
        w.province.actor,
        text="Báo cáo lực lượng tham gia\nchi tiết…",
        target=Target.parse("level:commune"),
        ack_by=clock.now() + timedelta(hours=24),
        urgent=False,
        tz=TZ,
    )
    await w.inbox.new()

    morning = datetime(2026, 7, 2, 7, 0, tzinfo=TZ)
    assert await digests.send_digests(session, morning - timedelta(minutes=1), CONFIG, TZ) == 0
    assert await digests.send_digests(session, morning, CONFIG, TZ) == 3
    rows = {r.member_id: r.payload["text"] for r in await w.inbox.new()}
    assert set(rows) == {w.district.id, w.province.id, w.committee.id}  # Quảng Ninh: no news
    province = rows[w.province.id]
    assert province.startswith("📰 BẢN TIN NGÀY 02/07/2026 — Công an Hà Nội")
    assert "Báo cáo mới trong 24 giờ qua: 1 (từ 1 đơn vị)" in province
    assert "Công an phường Phúc Xá — #" in province
    assert "Rà soát địa điểm" in province
    assert "Báo cáo lực lượng tham gia: 2 đơn vị chưa xác nhận" in province
    assert "TB — Công an phường Trúc Bạch" in province
    assert "quá hạn" not in province.lower()
    assert "Bãi Cháy" not in province
    assert "Bãi Cháy" not in rows[w.committee.id]  # its only news is in Hà Nội, too

    assert await digests.send_digests(session, morning + timedelta(hours=3), CONFIG, TZ) == 0
    assert (await session.get(Member, quiet_one.id)).last_digest_due == morning

    overdue_day = datetime(2026, 7, 7, 7, 0, tzinfo=TZ)  # after the task's deadline
    assert await digests.send_digests(session, overdue_day, CONFIG, TZ) == 4
    rows = {r.member_id: r.payload["text"] for r in await w.inbox.new()}
    assert "Nhiệm vụ quá hạn (1)" in rows[quiet_one.id]
    assert "1 đơn vị chưa xong" in rows[quiet_one.id]  # Bãi Cháy, its only unit
    assert "3 đơn vị chưa xong" in rows[w.committee.id]


async def test_the_digest_names_units_that_owe_work_and_have_nobody_registered(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    await w.build()
    from storage.models import MemberStatus

    tb = await session.get(Member, w.tb.id)
    tb.status = MemberStatus.REJECTED  # Trúc Bạch's only officer: nobody is left there
    await CountRepository(session).rebuild()  # written directly, past the counts' write paths
    await w.report(w.px[0], TaskState.DONE)  # Phúc Xá owes nothing any more
    morning = datetime(2026, 7, 2, 7, 0, tzinfo=TZ)
    await digests.send_digests(session, morning, CONFIG, TZ)
    rows = {r.member_id: r.payload["text"] for r in await w.inbox.new()}
    district = rows[w.district.id]
    assert "👤 1 đơn vị còn việc mà chưa có cán bộ đăng ký" in district
    assert "Công an phường Trúc Bạch" in district.split("👤")[1]
    assert "Phúc Xá" not in district.split("👤")[1]
