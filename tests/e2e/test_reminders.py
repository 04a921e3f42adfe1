"""The scheduler end to end: what officers and coordinators see as the clock moves past
reminder points and deadlines — reminders with a working report button, overdue notices,
escalation to the district (never above the unit that gave the task), /pause and /resume,
the daily digest, and a restart that catches up after downtime with one message."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.emulator import Person
from bot.scheduler import Scheduler
from storage.models import Task
from tests.e2e.conftest import BotEnv, job_runs
from tests.e2e.test_tasks import _report, _setup, _task

DAY = timedelta(days=1)


async def _sweep(env: BotEnv, job: str = "reminders") -> object:
    """One run of a scheduler job, as the bot's scheduler runs it (its own transaction)."""
    result = await Scheduler(env.db, env.clock, env.config, lambda: None).run(job)
    await env.settle()
    return result


async def _deadline(env: BotEnv) -> datetime:
    async with env.db.session() as session:
        deadline = await session.scalar(select(Task.deadline).where(Task.id == 1))
    assert deadline is not None
    return deadline


def _move_to(env: BotEnv, moment: datetime) -> None:
    env.clock.advance(moment - env.clock.now())


def _texts(person: Person) -> list[str]:
    return [m.body for m in person.unread()]


async def test_reminders_escalation_and_pauses_as_people_see_them(env: BotEnv) -> None:
    district, an, binh, province = await _setup(env)
    assert "Đã giao nhiệm vụ #1 cho 2 đơn vị" in (await _task(district, "Rà soát địa điểm")).body
    await env.settle()
    for person in (an, binh, district, province):
        person.read_all()
    deadline = await _deadline(env)

    _move_to(env, deadline - 3 * DAY)
    await _sweep(env)
    reminder = await an.next_message()
    assert "NHẮC VIỆC — nhiệm vụ #1: Rà soát địa điểm" in reminder.body
    assert "còn 3 ngày" in reminder.body
    assert "chưa báo cáo lần nào" in reminder.body
    assert "Hoàn thành" in await _report(an, reminder, "Hoàn thành", None)  # its own button
    assert "NHẮC VIỆC" in (await binh.next_message()).body
    await _sweep(env)  # the same point again: nothing
    assert _texts(an) == _texts(binh) == []

    _move_to(env, deadline + timedelta(hours=2))
    await _sweep(env)
    assert _texts(an) == []  # done: no more nagging
    (overdue,) = _texts(binh)
    assert "QUÁ HẠN — nhiệm vụ #1" in overdue
    (escalated,) = _texts(district)
    assert "ĐƠN VỊ CHẬM TIẾN ĐỘ — nhiệm vụ #1" in escalated
    assert "Công an phường Trúc Bạch (HN-BD-TB): chưa báo cáo lần nào" in escalated
    assert "Phúc Xá" not in escalated
    assert _texts(province) == []  # its turn comes a day later

    # A known case: the district pauses Trúc Bạch, bad attempts first.
    assert "Hãy ghi lý do" in (await district.ask("/pause HN-BD-TB 7d")).body
    assert "ngoài phạm vi" in (await district.ask("/pause QN-HL-BC 7d Lũ")).body
    assert "Không hiểu thời hạn “mai”" in (await district.ask("/pause HN-BD-TB mai Lũ")).body
    assert "không được phép" in (await binh.ask("/pause HN-BD-TB 7d Lũ")).body
    paused = await district.ask("/pause HN-BD-TB 7d Đang khắc phục hậu quả lũ")
    assert "⏸ Đã tạm dừng nhắc việc" in paused.body
    assert "Đang khắc phục hậu quả lũ" in paused.body
    listing = await district.ask("/pause")
    assert "Công an phường Trúc Bạch (HN-BD-TB) đến" in listing.body
    _move_to(env, deadline + DAY + timedelta(hours=2))
    await _sweep(env)
    assert _texts(binh) == _texts(province) == _texts(district) == []

    assert "được nhắc việc trở lại" in (await district.ask("/resume HN-BD-TB")).body
    assert "không tạm dừng" in (await district.ask("/resume HN-BD-TB")).body
    await _sweep(env)
    assert len(_texts(binh)) == 1  # the notice due now, once
    assert _texts(district) == []  # the climb starts again from the end of the pause …
    _move_to(env, env.clock.now() + env.config.reminders.escalate_after)
    await _sweep(env)
    (again,) = _texts(district)  # … with the district, which gave the task: no higher
    assert "Trúc Bạch" in again
    assert _texts(province) == []


async def test_the_daily_digest_reaches_each_coordinator(env: BotEnv) -> None:
    district, an, binh, province = await _setup(env)
    await _task(district, "Rà soát địa điểm")
    await env.settle()
    task = await binh.next_message()
    await _report(binh, task, "Gặp khó khăn", "25%")
    await env.settle()
    district.read_all()
    province.read_all()
    local_now = env.clock.now().astimezone(env.config.tz)
    tomorrow_7 = (local_now + DAY).replace(hour=7, minute=0, second=0, microsecond=0)
    _move_to(env, tomorrow_7)
    assert await _sweep(env, "digests") == 2
    (digest,) = _texts(district)
    assert "📰 BẢN TIN NGÀY" in digest
    assert "Công an quận Ba Đình" in digest
    assert "Công an phường Trúc Bạch — #1 Rà soát địa điểm" in digest
    assert "📰 BẢN TIN NGÀY" in _texts(province)[0]
    assert await _sweep(env, "digests") == 0  # once a day


async def test_a_restart_after_downtime_catches_up_with_one_message(env: BotEnv) -> None:
    district, an, binh, province = await _setup(env)
    await _task(district, "Rà soát địa điểm")
    await env.settle()
    an.read_all()
    deadline = await _deadline(env)
    _move_to(env, deadline + 3 * DAY + timedelta(hours=1))  # down for days, through it all
    running = replace(env.config.reminders, enabled=True)
    with job_runs() as runs:
        await env.restart(replace(env.config, reminders=running))  # the real scheduler now
        overdue = await env.expect(an, "QUÁ HẠN — nhiệm vụ #1")
        assert "quá hạn 3 ngày" in overdue.body
        # The district gave the task: it hears (once), maybe a minute after its daily digest
        # if the wall clock is past the digest's hour (a phone buzzes once a minute for
        # routine news); nothing climbs above it.
        await runs.wait_for("reminders")  # the catch-up sweep is over, not just under way
        env.clock.advance(timedelta(seconds=61))
        late = "ĐƠN VỊ CHẬM TIẾN ĐỘ"
        await env.until(lambda: any(late in m.body for m in district.bot_messages()))
        (escalated,) = [m.body for m in district.unread() if late in m.body]
        assert "thuộc Công an quận Ba Đình" in escalated
        await env.settle()
        assert _texts(an) == []  # one notice, not one per missed day or sweep
        await env.restart()
        await runs.wait_for("reminders", count=2)  # the second process has swept too …
        await env.settle()
        assert _texts(an) == []  # … and sent nothing again
        assert not any("ĐƠN VỊ CHẬM" in m.body for m in province.bot_messages())
