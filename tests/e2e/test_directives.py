"""Directives end to end: compose in chat, one-tap confirmation, status, amendment, reminder."""

from __future__ import annotations

from datetime import timedelta

from bot.emulator import Person
from bot.emulator.world import SimMessage
from storage.models import Role
from tests.e2e.conftest import BotEnv


async def _compose(
    coordinator: Person,
    text: str,
    target_label: str,
    deadline_label: str = "24 giờ",
    urgent: bool = False,
) -> SimMessage:
    """Walk the /directive form; returns the preview message (not yet sent)."""
    assert "bước 1/5" in (await coordinator.ask("/directive")).body
    targets = await coordinator.ask(text)
    await coordinator.press(targets, target_label)
    deadline = await coordinator.next_message()
    await coordinator.press(deadline, deadline_label)
    urgency = await coordinator.next_message()
    await coordinator.press(urgency, "Khẩn" if urgent else "Thường")
    return await coordinator.next_message()


async def _send(coordinator: Person, preview: SimMessage) -> SimMessage:
    await coordinator.press(preview, "Gửi")
    return await coordinator.next_message()


async def test_directive_to_all_communes_and_one_tap_confirmation(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN", Role.COORDINATOR)
    an = await env.member("An", "HN-BD-PX")
    binh = await env.member("Bình", "HN-BD-PX")
    cuong = await env.member("Cường", "HN-BD-TB")
    outsider = await env.member("Dũng", "QN-HL-BC")

    preview = await _compose(coordinator, "Rà soát địa điểm tổ chức Ngày hội.", "Xã/Phường")
    assert "2 đơn vị, 3 cán bộ" in preview.body
    assert "Phúc Xá" in preview.body
    assert "Trúc Bạch" in preview.body
    sent = await _send(coordinator, preview)
    assert "Đã gửi chỉ đạo #1" in sent.body

    copies = [await p.next_message() for p in (an, binh, cuong)]
    for copy in copies:
        assert "CHỈ ĐẠO #1" in copy.body
        assert "Rà soát địa điểm" in copy.body
        assert [b["text"] for b in copy.buttons()] == ["✅ Đã nhận"]

    answer = await an.press(copies[0], "Đã nhận")
    assert answer.text == "✅ Đã xác nhận cho đơn vị Công an phường Phúc Xá."
    # Both copies of the unit are edited through the outbox, in no promised order.
    await env.until(lambda: not copies[0].buttons() and not copies[1].buttons())
    assert "Đơn vị đã xác nhận: An" in copies[1].body
    assert "Đơn vị đã xác nhận: An" in copies[0].body
    assert copies[2].buttons(), "the other unit still has to confirm"

    stale = copies[0].reply_markup or {}
    assert stale == {} or not stale.get("inline_keyboard")
    again = await binh.await_answer(binh.press_data(copies[1], "dc:1:1"))
    assert again.text is not None
    assert "Đơn vị đã xác nhận rồi: An" in again.text

    await env.settle()
    assert not [m for m in outsider.bot_messages() if "CHỈ ĐẠO" in m.body]
    listing = await coordinator.ask("/directives")
    assert "#1 [1/2]" in listing.body
    await coordinator.press(listing, "#1")
    await coordinator.wait_until(lambda: "📊" in listing.body)
    assert "✅ 1/2 đơn vị đã xác nhận (50%)" in listing.body
    assert "1. 🟡 Công an quận Ba Đình: 1/2 đã xác nhận" in listing.body  # one line a district


async def test_late_confirmation_is_kept_and_marked(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    await _send(coordinator, await _compose(coordinator, "Báo cáo nhanh.", "Toàn bộ", "4 giờ"))
    copy = await officer.next_message()
    env.clock.advance(timedelta(hours=5))
    answer = await officer.press(copy, "Đã nhận")
    assert answer.text is not None
    assert "sau hạn" in answer.text
    listing = await coordinator.ask("/directives")
    await coordinator.press(listing, "#1")
    await coordinator.wait_until(lambda: "📊" in listing.body)
    assert "⏰ 1 đơn vị xác nhận sau hạn" in listing.body
    assert "⏰ 1 quá hạn" in listing.body  # Trúc Bạch has still not confirmed


async def test_amendment_asks_again_and_shows_changes(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    await _send(coordinator, await _compose(coordinator, "Họp lúc 8 giờ.", "Toàn bộ"))
    first = await officer.next_message()
    await officer.press(first, "Đã nhận")

    listing = await coordinator.ask("/directives")
    await coordinator.press(listing, "#1")
    await coordinator.wait_until(lambda: bool(listing.buttons()) and "📊" in listing.body)
    await coordinator.press(listing, "Sửa")
    ask = await coordinator.next_message()
    assert "nội dung mới cho chỉ đạo #1" in ask.body
    done = await coordinator.ask("Họp lúc 9 giờ.")
    assert "bản sửa đổi" in done.body

    amended = await officer.next_message()
    assert "Bản sửa đổi lần 2" in amended.body
    assert "• Họp lúc “8” → “9” giờ." in amended.body
    await officer.wait_until(lambda: "đã có bản sửa đổi" in first.body)
    old_tap = await officer.await_answer(officer.press_data(first, "dc:1:1"))
    assert old_tap.text is not None
    assert "đã được sửa đổi" in old_tap.text
    answer = await officer.press(amended, "Đã nhận")
    assert answer.text is not None
    assert answer.text.startswith("✅")


async def test_remind_resends_to_pending_units_only(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    done = await env.member("An", "HN-BD-PX")
    late = await env.member("Cường", "HN-BD-TB")
    await _send(coordinator, await _compose(coordinator, "Kiểm tra an ninh.", "Toàn bộ"))
    await done.press(await done.next_message(), "Đã nhận")
    await late.next_message()
    listing = await coordinator.ask("/directives")
    await coordinator.press(listing, "#1")
    await coordinator.wait_until(lambda: bool(listing.buttons()) and "📊" in listing.body)
    answer = await coordinator.press(listing, "Nhắc lại")
    assert answer.text == "Đã nhắc lại 1 cán bộ của các đơn vị chưa xác nhận."
    again = await late.next_message()
    assert "Kiểm tra an ninh." in again.body
    await env.settle()
    assert len([m for m in done.bot_messages() if "CHỈ ĐẠO" in m.body]) == 1


async def test_forged_stale_and_out_of_scope_taps_change_nothing(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    stranger = await env.member("Dũng", "QN-HL-BC")
    observer = await env.member("Kiểm", "HN", Role.OBSERVER)
    await _send(coordinator, await _compose(coordinator, "Nội dung.", "Toàn bộ"))
    copy = await officer.next_message()
    own = await stranger.ask("/me")
    not_target = await stranger.await_answer(stranger.press_data(own, "dc:1:1"))
    assert not_target.text == "Nút này không còn hiệu lực. Không có gì thay đổi."
    watcher = await observer.await_answer(observer.press_data(own, "dc:1:1"))
    assert watcher.text is not None
    assert "không được phép" in watcher.text
    for forged in ("dc:999:1", "dc:1:x", "dc:1", "dv:999999"):
        answer = await officer.await_answer(officer.press_data(copy, forged))
        assert answer.text is not None
    assert copy.buttons(), "nothing confirmed by forged taps"
    wrong_version = await officer.await_answer(officer.press_data(copy, "dc:1:7"))
    assert wrong_version.text is not None
    assert "đã được sửa đổi" in wrong_version.text
    assert "đã xác nhận mọi chỉ đạo" in (await stranger.ask("/directives")).body  # none for it
    refused = await officer.ask("/directive")
    assert "không được phép" in refused.body


async def test_compose_rejects_bad_input_and_keeps_the_form(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    await coordinator.ask("/directive")
    too_long = await coordinator.ask("x" * 3600)
    assert "vượt quá 3500" in too_long.body
    targets = await coordinator.ask("Nội dung hợp lệ.")
    assert "Bước 2/5" in targets.body
    assert "Hãy chọn bằng các nút" in (await coordinator.ask("phường Phúc Xá")).body
    await coordinator.press(targets, "danh sách mã")
    await coordinator.next_message()
    outside = await coordinator.ask("QN-HL-BC")
    assert "ngoài phạm vi" in outside.body
    unknown = await coordinator.ask("KHONG-CO")
    assert "Không tìm thấy đơn vị" in unknown.body
    deadline = await coordinator.ask("HN-BD-PX")
    assert "Bước 3/5" in deadline.body
    assert "Không đọc được thời hạn" in (await coordinator.ask("sớm nhất có thể")).body
    urgency = await coordinator.ask("36h")
    assert "Bước 4/5" in urgency.body
    assert "Đã hủy" in (await coordinator.ask("/cancel")).body
    assert "Không có thao tác" in (await coordinator.ask("/cancel")).body


async def test_directive_with_a_document(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    await coordinator.ask("/directive")
    coordinator.send_document("ke-hoach-333.pdf")
    kept = await coordinator.next_message()
    assert "Đã nhận tệp" in kept.body
    targets = await coordinator.ask("Gửi kèm kế hoạch chi tiết.")
    await coordinator.press(targets, "Toàn bộ")
    await coordinator.press(await coordinator.next_message(), "24 giờ")
    await coordinator.press(await coordinator.next_message(), "Thường")
    await _send(coordinator, await coordinator.next_message())
    attachment = await officer.next_message()
    assert attachment.document is not None
    assert attachment.document["file_id"].startswith("upload-")
    text = await officer.next_message()
    assert "Gửi kèm kế hoạch chi tiết." in text.body
    assert text.buttons()
