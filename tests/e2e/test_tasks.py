"""Plans, tasks and reports end to end: create in chat, report in three taps, blockers go up,
coordinator views, asking for more, closing, observers, and every kind of bad input."""

from __future__ import annotations

from datetime import timedelta

from bot.emulator import Person
from bot.emulator.world import SimMessage
from storage.models import Role
from tests.e2e.conftest import BotEnv


async def _plan(coordinator: Person, code: str = "333/KH-BCĐ") -> None:
    assert "bước 1/3" in (await coordinator.ask("/plan")).body
    assert "Bước 2/3" in (await coordinator.ask(code)).body
    assert "Bước 3/3" in (await coordinator.ask("Ngày hội toàn dân bảo vệ ANTQ")).body
    created = await coordinator.ask("19/08/2030")
    assert f"Đã tạo kế hoạch {code}" in created.body, created.body


async def _task(
    coordinator: Person,
    title: str,
    target: str = "Xã/Phường",
    days: str = "7 ngày",
    codes: str | None = None,
) -> SimMessage:
    """Walk the /task form; returns the coordinator's confirmation."""
    plans = await coordinator.ask("/task")
    await coordinator.press(plans, "333/KH-BCĐ")
    assert "Bước 2/5" in (await coordinator.next_message()).body
    description = await coordinator.ask(title)
    await coordinator.press(description, "Bỏ qua")
    targets = await coordinator.next_message()
    await coordinator.press(targets, "theo danh sách" if codes else target)
    if codes:
        assert "mã" in (await coordinator.next_message()).body
        coordinator.send(codes)
    deadline = await coordinator.next_message()
    await coordinator.press(deadline, days)
    preview = await coordinator.next_message()
    assert title in preview.body
    await coordinator.press(preview, "Giao")
    return await coordinator.next_message()


async def _setup(env: BotEnv) -> tuple[Person, Person, Person, Person]:
    district = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    an = await env.member("An", "HN-BD-PX")
    binh = await env.member("Bình", "HN-BD-TB")
    province = await env.member("Phong", "HN", Role.COORDINATOR)
    await _plan(district)
    return district, an, binh, province


async def _report(person: Person, message: SimMessage, state: str, progress: str | None) -> str:
    """Tap 1 (the task's button), 2 (state) and 3 (progress); returns the saved text."""
    await person.press(message, "Báo cáo")
    card = await person.next_message()
    await person.press(card, state)
    if progress is not None:
        await person.wait_until(lambda: any(progress in b["text"] for b in card.buttons()))
        await person.press(card, progress)
    await person.wait_until(lambda: "Đã ghi báo cáo" in card.body)
    return card.body


async def test_task_reaches_units_and_three_taps_report_it(env: BotEnv) -> None:
    district, an, binh, _ = await _setup(env)
    done = await _task(district, "Rà soát địa điểm tổ chức")
    assert "Đã giao nhiệm vụ #1 cho 2 đơn vị" in done.body

    copy = await an.next_message()
    assert "NHIỆM VỤ #1: Rà soát địa điểm tổ chức" in copy.body
    assert "333/KH-BCĐ" in copy.body
    saved = await _report(an, copy, "Đang thực hiện", "50%")
    assert "Đang thực hiện, 50%" in saved

    listing = await an.ask("/tasks")
    assert "#1 Rà soát địa điểm tổ chức" in listing.body
    assert "còn 6 ngày" in listing.body or "còn 7 ngày" in listing.body
    assert "50%" in listing.body

    binh_copy = await binh.next_message()
    saved = await _report(binh, binh_copy, "Hoàn thành", None)  # done needs no progress tap
    assert "Hoàn thành, 100%" in saved

    view = await district.ask("/task 1")
    assert "✅ 1/2 hoàn thành (50%) · 🔵 1 đang thực hiện" in view.body
    assert "Công an phường Phúc Xá: Đang thực hiện 50%" in view.body  # worst first
    assert "Công an phường Trúc Bạch: Hoàn thành" in view.body
    history = await district.ask("/task 1 HN-BD-TB")
    assert "Bình: Hoàn thành, 100%" in history.body
    overview = await district.ask("/tasks")
    assert "Công an quận Ba Đình hiện không có nhiệm vụ" in overview.body  # none of its own
    assert "#1 Rà soát địa điểm tổ chức: xong 1/2, khó khăn 0" in overview.body
    assert [b["text"] for b in overview.buttons()] == ["📊 #1"]


async def test_note_and_photo_join_the_report_and_a_blocker_goes_up(env: BotEnv) -> None:
    district, an, _, province = await _setup(env)
    await _task(district, "Chuẩn bị hội trường")
    copy = await an.next_message()
    saved = await _report(an, copy, "Gặp khó khăn", "25%")
    assert "Đã báo lên 1" in saved

    alert = await district.next_message()
    assert "GẶP KHÓ KHĂN — nhiệm vụ #1" in alert.body
    assert "Công an phường Phúc Xá" in alert.body
    assert [b["text"] for b in alert.buttons()] == [
        "✋ Đã nắm",
        "↩️ Yêu cầu bổ sung",
        "📜 Lịch sử báo cáo",
    ]

    an.send("Thiếu kinh phí thuê âm thanh")
    assert "Đã thêm ghi chú" in (await an.next_message()).body
    more = await district.next_message()
    assert "Thiếu kinh phí thuê âm thanh" in more.body
    an.send_photo("Hội trường xuống cấp")
    assert "Đã đính kèm" in (await an.next_message()).body
    photo = await district.next_message()
    assert photo.photo is not None
    await env.settle()
    assert not [m for m in province.bot_messages() if "KHÓ KHĂN" in m.body], "parent only"

    history = await district.ask("/task 1 HN-BD-PX")
    assert "Gặp khó khăn, 25%, 1 tệp" in history.body
    assert "Thiếu kinh phí thuê âm thanh" in history.body
    assert "Hội trường xuống cấp" in history.body


async def test_asking_for_more_reopens_the_report_and_closing_stops_reports(env: BotEnv) -> None:
    district, an, _, _ = await _setup(env)
    await _task(district, "Báo cáo danh sách khách mời")
    copy = await an.next_message()
    await _report(an, copy, "Hoàn thành", None)

    history = await district.ask("/task 1 HN-BD-PX")
    await district.press(history, "Yêu cầu bổ sung")
    assert "Gõ nội dung" in (await district.next_message()).body
    assert "Đã gửi yêu cầu bổ sung" in (await district.ask("Thiếu chức vụ khách mời")).body

    notice = await an.next_message()
    assert "YÊU CẦU BỔ SUNG" in notice.body
    assert "Thiếu chức vụ khách mời" in notice.body
    listing = await an.ask("/tasks")
    assert "✅ #1" in listing.body  # its true state, with the request for more under it
    assert "Cấp trên yêu cầu bổ sung: Thiếu chức vụ khách mời" in listing.body
    view = await district.ask("/task 1")
    assert "↩️ 1 được yêu cầu bổ sung" in view.body

    await district.press(view, "Đóng nhiệm vụ")
    sure = await district.next_message()
    await district.press(sure, "🔒 Đóng")
    await district.wait_until(lambda: "Đã đóng lúc" in sure.body)  # the prompt becomes the view
    answer = await an.press(notice, "Báo cáo")
    assert answer.text is not None
    assert "đã đóng" in answer.text
    assert "không có nhiệm vụ nào đang mở" in (await an.ask("/tasks")).body


async def test_observers_see_but_cannot_change(env: BotEnv) -> None:
    district, an, _, _ = await _setup(env)
    inspector = await env.member("Kiểm", "HN", Role.OBSERVER)
    await _task(district, "Tập huấn lực lượng")
    await _report(an, await an.next_message(), "Gặp khó khăn", "0%")
    view = await inspector.ask("/task 1")
    assert "⛔ 1 gặp khó khăn" in view.body
    labels = [b["text"] for b in view.buttons()]
    assert "🔄 Làm mới" in labels
    assert not [x for x in labels if "Đóng" in x or "Dời hạn" in x]  # nothing that changes
    forged = await inspector.await_answer(inspector.press_data(view, "tz:1"))
    assert forged.text is not None
    assert "không được phép" in forged.text
    forged = await inspector.await_answer(inspector.press_data(view, "tr:1:4"))
    assert forged.text is not None
    assert "không được phép" in forged.text
    assert "Đóng nhiệm vụ" in str((await district.ask("/task 1")).buttons())  # still open
    refused = await an.ask("/task 1 HN-BD-TB")
    assert "ngoài phạm vi phụ trách" in refused.body  # an officer sees only their own unit


async def test_bad_input_gets_an_answer_and_loses_nothing(env: BotEnv) -> None:
    district, an, binh, _ = await _setup(env)
    await _task(district, "Treo băng rôn", target="Xã/Phường")
    copy = await an.next_message()
    await an.press(copy, "Báo cáo")
    card = await an.next_message()
    await an.press(card, "Đang thực hiện")
    assert "Hãy chọn mức tiến độ" in (await an.ask("xong rồi")).body  # text, not a button
    assert "từ 0 đến 100" in (await an.ask("150")).body
    saved = await an.ask("60")  # a typed number is a fine answer
    assert "Đang thực hiện, 60%" in saved.body

    too_long = await an.ask("x" * 13_000)  # the phone sends four parts; joined, still too long
    assert "tối đa 12000" in too_long.body
    assert "vẫn được giữ nguyên" in too_long.body
    an.send_document("virus.exe", size=2048, mime_type="application/octet-stream")
    assert "Không nhận loại tệp" in (await an.next_message()).body
    an.send_document("ke-hoach.pdf", size=40 * 1024 * 1024)
    assert "lớn hơn 20 MB" in (await an.next_message()).body
    an.send_photo(size=15 * 1024 * 1024)
    assert "Ảnh lớn hơn 10 MB" in (await an.next_message()).body
    an.send_document("ke-hoach.pdf")
    assert "Đã đính kèm" in (await an.next_message()).body

    history = await district.ask("/task 1 HN-BD-PX")
    assert "Đang thực hiện, 60%, 1 tệp" in history.body  # the earlier report is intact

    await _task(district, "Việc riêng của Trúc Bạch", codes="HN-BD-TB")
    forged = await an.await_answer(an.press_data(copy, "tk:2"))
    assert forged.text is not None
    assert "không được giao cho đơn vị" in forged.text
    assert "không được giao" in (await an.ask("/report 99 xong")).body
    assert "Cách báo cáo nhanh" in (await an.ask("/report hôm nay xong")).body
    del binh


async def test_a_report_that_waited_for_coverage_keeps_its_time(env: BotEnv) -> None:
    district, an, binh, _ = await _setup(env)
    await _task(district, "Nộp kế hoạch chi tiết", days="3 ngày")
    # The notices come through the outbox, maybe after the coordinator's answer: read them
    # first, or one of them would be taken for the answer to the report.
    for person in (an, binh):
        await env.expect(person, "NHIỆM VỤ #1: Nộp kế hoạch chi tiết")
    env.clock.advance(timedelta(days=3, hours=2))  # now past the deadline
    written = (env.clock.now() - timedelta(days=1)).timestamp()  # written before it, offline
    an.send("/report 1 xong Đã nộp bản giấy", written_at=written)
    on_time = await an.next_message()
    assert "Hoàn thành, 100%" in on_time.body
    assert "muộn" not in on_time.body
    late = await binh.ask("/report 1 đang 40")
    assert "Đang thực hiện, 40%" in late.body
    assert "báo cáo muộn" in late.body
    view = await district.ask("/task 1")
    assert "⏰ 1 quá hạn" in view.body  # Phúc Xá still owes it; Trúc Bạch's came late
