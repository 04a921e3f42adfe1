"""Blockers end to end: the alert at once (no "(không có ghi chú)"), the note on its heels,
the next blocker within the window in one later message, then ✋ Đã nắm and ✅ Đã gỡ vướng mắc
with the note typed as the next message — and the unit hears of both."""

from __future__ import annotations

from bot.core.i18n import t
from bot.services.blockers import WINDOW
from storage.repositories.units import UnitRepository
from tests.e2e.conftest import BotEnv
from tests.e2e.test_tasks import _report, _setup, _task


async def test_a_blocker_is_grouped_taken_and_resolved_as_people_see_it(env: BotEnv) -> None:
    district, an, binh, _ = await _setup(env)
    await _task(district, "Chuẩn bị hội trường")
    copy = await an.next_message()
    binh_copy = await binh.next_message()
    saved = await _report(an, copy, "Gặp khó khăn", "25%")
    assert "Đã báo lên 1" in saved

    alert = await env.expect(district, "⛔ ĐƠN VỊ GẶP KHÓ KHĂN — nhiệm vụ #1")
    assert "Công an phường Phúc Xá" in alert.body
    assert "không có ghi chú" not in alert.body
    assert [b["text"] for b in alert.buttons()][0] == "✋ Đã nắm"
    an.send("Thiếu kinh phí thuê âm thanh")  # the note follows on its own
    assert "Đã thêm ghi chú" in (await an.next_message()).body
    await env.expect(district, "Thiếu kinh phí thuê âm thanh")

    # A second blocker within the window waits, and comes as one message after it.
    await _report(binh, binh_copy, "Gặp khó khăn", "50%")
    binh.send("Chưa có địa điểm")
    assert "Đã thêm ghi chú" in (await binh.next_message()).body
    env.clock.advance(WINDOW)
    grouped = await env.expect(district, "1 mục mới trong 10 phút qua")
    assert "Công an phường Trúc Bạch (HN-BD-TB): 50%" in grouped.body
    assert "Khó khăn, vướng mắc: Chưa có địa điểm" in grouped.body  # the note, written in
    assert [b["text"] for b in grouped.buttons()] == ["✋ #1 HN-BD-TB"]
    await env.settle()
    assert not district.unread()

    # ✋ Đã nắm: the unit hears who is handling it; a second tap changes nothing.
    answer = await district.press(alert, "✋ Đã nắm")
    assert "Đã ghi nhận đồng chí nắm vướng mắc" in (answer.text or "")
    taken = await env.expect(district, "Đồng chí đang xử lý vướng mắc của Công an phường Phúc Xá")
    notice = await env.expect(an, "✋ VƯỚNG MẮC ĐANG ĐƯỢC XỬ LÝ — nhiệm vụ #1")
    assert "Đồng chí Hoa đã nắm" in notice.body
    again = await district.press(alert, "✋ Đã nắm")
    assert "Đồng chí đã nắm vướng mắc này" in (again.text or "")

    # Forged and foreign buttons: a clear answer, nothing changed.
    async with env.db.session() as session:
        px = await UnitRepository(session).get_by_code("HN-BD-PX")
        assert px is not None
    forged = await district.await_answer(district.press_data(alert, "bt:1:999999"))
    assert "Không tìm thấy vướng mắc này" in (forged.text or "")
    foreign = await binh.await_answer(binh.press_data(binh_copy, f"bx:1:{px.id}"))
    assert foreign.text == t("vi", "authz.role_denied")

    # ✅ Đã gỡ vướng mắc, then what was done as the next message: the unit is told.
    await district.press(taken, "✅ Đã gỡ vướng mắc")
    await env.expect(district, "Gửi nội dung đã xử lý vướng mắc của Công an phường Phúc Xá")
    done = await district.ask("Đã cấp kinh phí thuê âm thanh từ quỹ dự phòng")
    assert "đã được gỡ; đã báo cho 1 cán bộ" in done.body
    resolved = await env.expect(an, "✅ ĐÃ GỠ VƯỚNG MẮC — nhiệm vụ #1")
    assert "Đã cấp kinh phí thuê âm thanh từ quỹ dự phòng" in resolved.body
    assert [b["text"] for b in resolved.buttons()] == ["📝 Báo cáo tiến độ"]
    late = await district.press(taken, "✅ Đã gỡ vướng mắc")  # resolved already
    assert "không còn vướng mắc chưa xử lý" in (late.text or "")
