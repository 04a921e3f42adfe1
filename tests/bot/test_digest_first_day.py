"""A coordinator who registers in the middle of the day has their first daily digest at the
next digest time, not a moment after registering."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.config import RemindersConfig
from bot.services import digests, onboarding
from storage.models import MemberStatus, Role, TaskState
from tests.bot.test_reminders import World
from tests.factories import make_member

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = RemindersConfig()  # digests at 07:00


def _to(rows: list, member_id: int) -> list[str]:
    return [r.payload["text"] for r in rows if r.member_id == member_id]


async def test_a_coordinator_registered_mid_morning_first_hears_the_next_morning(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)  # built at 09:00 01/07/2026, after that day's 07:00
    await w.build()
    await w.report(w.px[0], TaskState.BLOCKED, 20)  # news for Hà Nội
    clock.set(datetime(2026, 7, 1, 9, 30, tzinfo=TZ))
    newcomer = await make_member(session, clock, "HN", Role.COORDINATOR, name="Mới đăng ký")
    # registered at 06:00 and approved at 09:40: it is the approval that counts
    clock.set(datetime(2026, 7, 1, 6, 0, tzinfo=TZ))
    waiting = await make_member(
        session, clock, "HN", Role.COORDINATOR, MemberStatus.PENDING, name="Chờ phê duyệt"
    )
    clock.set(datetime(2026, 7, 1, 9, 40, tzinfo=TZ))
    decided = await onboarding.decide_member(
        session, clock, w.province.actor, waiting.id, approve=True
    )
    assert decided.approved
    await w.inbox.new()

    # the same morning, every run after registering: nothing for either of them
    for minutes in (1, 30, 120):
        now = datetime(2026, 7, 1, 9, 40, tzinfo=TZ) + timedelta(minutes=minutes)
        await digests.send_digests(session, now, CONFIG, TZ)
    rows = await w.inbox.new()
    assert not _to(rows, newcomer.id)
    assert not _to(rows, waiting.id)

    # the next digest time: both hear of their part, once
    morning = datetime(2026, 7, 2, 7, 0, tzinfo=TZ)
    assert await digests.send_digests(session, morning - timedelta(minutes=1), CONFIG, TZ) == 0
    await digests.send_digests(session, morning, CONFIG, TZ)
    await digests.send_digests(session, morning + timedelta(minutes=5), CONFIG, TZ)
    rows = await w.inbox.new()
    (first,) = _to(rows, newcomer.id)
    assert first.startswith("📰 BẢN TIN NGÀY 02/07/2026 — Công an Hà Nội")
    assert len(_to(rows, waiting.id)) == 1


async def test_one_registered_before_the_digest_time_has_it_that_day(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    await w.build()
    await w.report(w.px[0], TaskState.BLOCKED, 20)
    clock.set(datetime(2026, 7, 2, 6, 50, tzinfo=TZ))
    early = await make_member(session, clock, "HN", Role.COORDINATOR, name="Sáng sớm")
    await w.inbox.new()
    await digests.send_digests(session, datetime(2026, 7, 2, 7, 0, tzinfo=TZ), CONFIG, TZ)
    assert len(_to(await w.inbox.new(), early.id)) == 1
