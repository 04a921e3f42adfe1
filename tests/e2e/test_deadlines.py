"""Moving a deadline end to end: a coordinator opens /task N, presses ✏️ Dời hạn, types the
new time and confirms; the units still working hear it once, a unit that finished hears
nothing, and a forged or stale confirmation changes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.emulator import Person
from bot.emulator.world import SimMessage
from bot.services import plans
from storage.models import Role, Task
from tests.e2e.conftest import BotEnv

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def _task(env: BotEnv) -> Task:
    async with env.db.session() as session:
        task = await session.scalar(select(Task))
    assert task is not None
    return task


async def _assign(coordinator: Person) -> SimMessage:
    """A plan for 19/08/2030 and a task to the communes due 14 days before it, typed as the
    field writes it."""
    await coordinator.ask("/plan")
    await coordinator.ask("333/KH-BCĐ")
    await coordinator.ask("Ngày hội toàn dân bảo vệ ANTQ")
    assert "Đã tạo kế hoạch" in (await coordinator.ask("19/08/2030")).body
    choose = await coordinator.ask("/task")
    await coordinator.press(choose, "333/KH-BCĐ")
    await coordinator.next_message()
    description = await coordinator.ask("Rà soát địa điểm tổ chức")
    await coordinator.press(description, "Bỏ qua")
    targets = await coordinator.next_message()
    await coordinator.press(targets, "Xã/Phường")
    await coordinator.next_message()  # the deadline step
    preview = await coordinator.ask("14 ngày trước ngày tổ chức")
    assert "23:59 05/08/2030" in preview.body, preview.body
    await coordinator.press(preview, "Giao")
    return await coordinator.next_message()


async def _report_done(person: Person) -> None:
    notice = await person.next_message()
    await person.press(notice, "Báo cáo")
    card = await person.next_message()
    await person.press(card, "Hoàn thành")
    await person.wait_until(lambda: "Đã ghi báo cáo" in card.body)


async def test_a_coordinator_moves_a_deadline_and_pending_units_hear_it_once(
    env: BotEnv,
) -> None:
    district = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    an = await env.member("An", "HN-BD-PX")
    binh = await env.member("Bình", "HN-BD-TB")
    assert "Đã giao nhiệm vụ #1 cho 2 đơn vị" in (await _assign(district)).body
    task = await _task(env)
    assert task.event_offset_minutes == plans.event_offset("event-14d")  # follows the event
    assert "NHIỆM VỤ #1" in (await an.next_message()).body
    await _report_done(binh)
    await env.settle()
    an.read_all()
    binh.read_all()

    view = await district.ask("/task 1")
    assert "✏️ Dời hạn" in [b["text"] for b in view.buttons()]
    await district.press(view, "Dời hạn")
    asked = await district.next_message()
    assert "Hạn hiện tại: 23:59 05/08/2030" in asked.body
    unreadable = await district.ask("mai")
    assert "Không đọc được thời hạn “mai”" in unreadable.body  # told; the form stays open
    confirm = await district.ask("17:00 12/08/2030")
    assert "Hạn cũ: 23:59 05/08/2030" in confirm.body
    assert "Hạn mới: 17:00 12/08/2030" in confirm.body
    assert "1 đơn vị chưa hoàn thành" in confirm.body

    forged = await district.await_answer(district.press_data(confirm, "dl:y:1:0badc0de"))
    assert forged.text is not None
    assert "không còn hiệu lực" in forged.text
    assert (await _task(env)).deadline == task.deadline

    answer = await district.press(confirm, "Dời hạn")
    assert answer.text is not None
    assert "Đã dời hạn" in answer.text
    done = await district.next_message()
    assert "Đã dời hạn nhiệm vụ #1 sang 17:00 12/08/2030 (hạn cũ 23:59 05/08/2030)" in done.body
    assert "đã báo 1 đơn vị" in done.body

    notice = await env.expect(an, "DỜI HẠN — nhiệm vụ #1")
    assert "Hạn mới: 17:00 12/08/2030" in notice.body
    assert "📝 Báo cáo tiến độ" in [b["text"] for b in notice.buttons()]

    # The same confirmation pressed again, and one from another member, change nothing.
    again = await district.press(confirm, "Dời hạn")
    assert again.text is not None
    assert "không còn hiệu lực" in again.text
    foreign = await an.await_answer(an.press_data(notice, "dl:y:1:0badc0de"))
    assert foreign.text is not None
    assert "không còn hiệu lực" in foreign.text
    started = await an.await_answer(an.press_data(notice, "dl:s:1"))
    assert started.text is not None
    assert "không được phép" in started.text
    await env.settle()
    assert [m for m in an.unread() if "DỜI HẠN" in m.body] == []  # once
    assert [m for m in binh.unread() if "DỜI HẠN" in m.body] == []  # done: nothing
    moved = await _task(env)
    local = datetime(2030, 8, 12, 17, 0, tzinfo=TZ)
    assert (moved.deadline, moved.event_offset_minutes) == (local, None)

    view = await district.ask("/task 1")
    assert "hạn 17:00 12/08/2030" in view.body
    assert "Hạn trước khi dời: 23:59 05/08/2030" in view.body
    history = await district.ask("/task 1 HN-BD-PX")
    assert "dời hạn 23:59 05/08/2030 → 17:00 12/08/2030" in history.body


async def test_a_confirmation_from_an_earlier_proposal_is_stale(env: BotEnv) -> None:
    district = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    an = await env.member("An", "HN-BD-PX")
    await _assign(district)
    task = await _task(env)
    view = await district.ask("/task 1")
    await district.press(view, "Dời hạn")
    asked = await district.next_message()
    first = await district.ask("20/08/2030")
    assert "Hạn mới: 23:59 20/08/2030" in first.body
    second = await district.ask("22/08/2030")  # typed again instead of confirming
    assert "Hạn mới: 23:59 22/08/2030" in second.body
    stale = await district.press(first, "Dời hạn")
    assert stale.text is not None
    assert "không còn hiệu lực" in stale.text
    assert (await _task(env)).deadline == task.deadline

    await district.press(second, "Hủy")
    assert "Hạn nhiệm vụ #1 vẫn là 23:59 05/08/2030" in (await district.next_message()).body
    later = await district.press(asked, "Thêm 3 ngày")  # the form is closed
    assert later.text is not None
    assert "không còn hiệu lực" in later.text
    await env.settle()
    assert [m for m in an.unread() if "DỜI HẠN" in m.body] == []
    assert (await _task(env)).deadline == task.deadline
