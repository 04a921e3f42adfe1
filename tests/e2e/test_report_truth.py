"""Reports that read right, end to end: progress that goes back asks the member why (after the
taps, and after a typed /report) and tells the district; a done report sent back stays
"Hoàn thành" and is marked as owing more; the deadline reads the same in every view."""

from __future__ import annotations

from bot.emulator import Person
from bot.emulator.world import SimMessage
from tests.e2e.conftest import BotEnv
from tests.e2e.test_tasks import _report, _setup, _task


async def _report_down(person: Person, notice: SimMessage, state: str, progress: str) -> SimMessage:
    """Taps 1–3 of a report whose progress goes down: the card then asks for the reason."""
    await person.press(notice, "Báo cáo")
    card = await person.next_message()
    await person.press(card, state)
    await person.wait_until(lambda: any(progress in b["text"] for b in card.buttons()))
    await person.press(card, progress)
    await person.wait_until(lambda: "Tiến độ giảm" in card.body)
    return card


async def test_progress_going_back_asks_why_and_tells_the_district(env: BotEnv) -> None:
    district, an, _, province = await _setup(env)
    await _task(district, "Dựng sân khấu", codes="HN-BD-PX")
    notice = await env.expect(an, "NHIỆM VỤ #1: Dựng sân khấu")
    await _report(an, notice, "Đang thực hiện", "75%")

    card = await _report_down(an, notice, "Đang thực hiện", "25%")
    assert "Tiến độ giảm từ 75% xuống 25% (Đang thực hiện)" in card.body
    assert card.buttons() == []  # the next step is typed
    not_yet = await district.ask("/task 1 HN-BD-PX")
    assert "Đang thực hiện, 75%" in not_yet.body  # nothing is saved before the reason
    assert "25%" not in not_yet.body

    saved = await an.ask("Mưa bão làm đổ khung sân khấu")
    assert "Đã ghi báo cáo nhiệm vụ #1" in saved.body
    assert "Đang thực hiện, 25%" in saved.body
    assert "Đã báo tiến độ giảm cho 1 đồng chí phụ trách" in saved.body
    alert = await env.expect(district, "TIẾN ĐỘ GIẢM — nhiệm vụ #1: Dựng sân khấu")
    assert "Tiến độ: 75% → 25% (Đang thực hiện)" in alert.body
    assert "Lý do: Mưa bão làm đổ khung sân khấu" in alert.body
    history = await district.ask("/task 1 HN-BD-PX")
    assert "Đang thực hiện, 25%" in history.body
    assert "Mưa bão làm đổ khung sân khấu" in history.body

    # Typed: the same question, in the member's language, and /cancel keeps the report.
    asked = await an.ask("/report 1 đang 10")
    assert "Tiến độ giảm từ 25% xuống 10%" in asked.body
    assert "/cancel" in asked.body
    assert "Đã hủy" in (await an.ask("/cancel")).body
    await an.ask("/lang en")
    asked = await an.ask("/report 1 doing 10")
    assert "Progress goes down from 25% to 10%" in asked.body
    saved = await an.ask("Two workers are ill")
    assert "Report saved for task #1" in saved.body
    alert = await env.expect(district, "TIẾN ĐỘ GIẢM")
    assert "25% → 10%" in alert.body
    assert "Two workers are ill" in alert.body

    await env.settle()
    assert not [m for m in province.bot_messages() if "TIẾN ĐỘ GIẢM" in m.body], "parent only"


async def test_a_done_report_sent_back_reads_done_and_owes_more(env: BotEnv) -> None:
    district, an, _, _ = await _setup(env)
    await _task(district, "Danh sách khách mời", codes="HN-BD-PX")
    notice = await env.expect(an, "NHIỆM VỤ #1: Danh sách khách mời")
    await _report(an, notice, "Hoàn thành", None)
    assert "(đã hoàn thành)" in (await an.ask("/tasks")).body

    history = await district.ask("/task 1 HN-BD-PX")
    await district.press(history, "Yêu cầu bổ sung")
    assert "Gõ nội dung" in (await district.next_message()).body
    assert "Đã gửi yêu cầu bổ sung" in (await district.ask("Thiếu chức vụ khách mời")).body
    returned = await env.expect(an, "YÊU CẦU BỔ SUNG")

    listing = await an.ask("/tasks")
    assert "✅ #1 Danh sách khách mời" in listing.body  # its true state, not "🔵"
    assert "(còn 6 ngày)" in listing.body or "(còn 7 ngày)" in listing.body  # owes a report
    assert "Cấp trên yêu cầu bổ sung: Thiếu chức vụ khách mời" in listing.body
    await an.press(returned, "Báo cáo")
    card = await an.next_message()
    assert "Trạng thái hiện tại: Hoàn thành, 100% — đã được yêu cầu bổ sung" in card.body
    assert "Đang thực hiện" not in card.body.split("\n")[2]
    view = await district.ask("/task 1")
    assert "✅ 0/1 hoàn thành" in view.body  # not finished until it reports again
    assert "↩️ 1 được yêu cầu bổ sung" in view.body
    assert "Công an phường Phúc Xá: Hoàn thành 100% · ↩️ được yêu cầu bổ sung" in view.body

    await an.press(card, "Hoàn thành")  # reports again: done, and nothing is owed
    await an.wait_until(lambda: "Đã ghi báo cáo" in card.body)
    view = await district.ask("/task 1")
    assert "✅ 1/1 hoàn thành" in view.body
    assert "được yêu cầu bổ sung" not in view.body  # answered: nothing owed
