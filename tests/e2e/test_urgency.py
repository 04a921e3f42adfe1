"""Độ khẩn, số hiệu and amendments end to end: a Hỏa tốc directive with its số hiệu composed
in chat, an amendment typed as "cũ => mới", and Hỏa tốc re-reminded every half hour through
the night while a Thường directive waits for the morning."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.core import callbacks
from bot.core.config import RemindersConfig
from bot.emulator import Person
from bot.emulator.world import SimMessage
from bot.scheduler import Scheduler
from storage.models import Directive, Role
from tests.e2e.conftest import BotEnv


async def _compose(
    coordinator: Person, text: str, level: str, number: str | None = None
) -> SimMessage:
    """Walk the /directive form to its preview, typing the số hiệu at the urgency step."""
    assert "bước 1/5" in (await coordinator.ask("/directive")).body
    await coordinator.press(await coordinator.ask(text), "Toàn bộ")
    await coordinator.press(await coordinator.next_message(), "24 giờ")
    urgency = await coordinator.next_message()
    assert "Chọn độ khẩn" in urgency.body
    if number is not None:
        urgency = await coordinator.ask(number)
        assert f"Số hiệu: {number}" in urgency.body
    await coordinator.press(urgency, level)
    return await coordinator.next_message()


async def _stored(env: BotEnv, directive_id: int) -> Directive:
    async with env.db.session() as session:
        directive = await session.get(Directive, directive_id)
    assert directive is not None
    return directive


async def test_a_hoa_toc_directive_with_its_number(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    await coordinator.ask("/directive")
    await coordinator.press(await coordinator.ask("Báo cáo ngay thiệt hại do bão."), "Toàn bộ")
    await coordinator.press(await coordinator.next_message(), "24 giờ")
    urgency = await coordinator.next_message()
    assert "Chọn độ khẩn" in urgency.body
    rows = [[b["text"] for b in row] for row in urgency.reply_markup["inline_keyboard"]]
    assert rows == [["Thường", "🔴 Khẩn"], ["🔴 Thượng khẩn", "🔴 Hỏa tốc"]]

    too_long = await coordinator.ask("125/CV-BCĐ " * 6)
    assert "tối đa 50 ký tự" in too_long.body
    assert "Nội dung đã soạn vẫn được giữ" in too_long.body
    assert too_long.buttons(), "the levels are offered again"
    no_digit = await coordinator.ask("Gấp lắm")
    assert "không phải số hiệu" in no_digit.body
    kept = await coordinator.ask("125/CV-BCĐ")
    assert "Số hiệu: 125/CV-BCĐ" in kept.body
    assert kept.buttons()[-1]["text"] == "Bỏ số hiệu"
    await coordinator.press(kept, "Hỏa tốc")
    preview = await coordinator.next_message()
    assert "Báo cáo ngay thiệt hại do bão." in preview.body, "the text survived the bad input"
    assert "• Độ khẩn: Hỏa tốc\n• Số hiệu: 125/CV-BCĐ" in preview.body
    await coordinator.press(preview, "Gửi")
    assert "Đã gửi chỉ đạo #1" in (await coordinator.next_message()).body

    copy = await officer.next_message()
    assert copy.body.startswith("🔴 CHỈ ĐẠO HỎA TỐC #1\nSố hiệu: 125/CV-BCĐ\nTừ: Hoa")
    stored = await _stored(env, 1)
    assert (stored.urgency, stored.urgent, stored.document_number) == (
        "hoa_toc",
        True,
        "125/CV-BCĐ",
    )


async def test_a_typed_number_can_be_dropped_and_a_level_typed(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    await coordinator.ask("/directive")
    await coordinator.press(await coordinator.ask("Rà soát lực lượng."), "Toàn bộ")
    await coordinator.press(await coordinator.next_message(), "24 giờ")
    await coordinator.next_message()
    kept = await coordinator.ask("12/KH-CAX")
    await coordinator.press(kept, "Bỏ số hiệu")
    dropped = await coordinator.next_message()
    assert "Đã bỏ số hiệu" in dropped.body
    preview = await coordinator.ask("thượng khẩn")  # typed instead of tapped
    assert "• Độ khẩn: Thượng khẩn\n" in preview.body
    assert "Số hiệu" not in preview.body
    await coordinator.press(preview, "Gửi")
    await coordinator.next_message()
    copy = await officer.next_message()
    assert copy.body.startswith("🔴 CHỈ ĐẠO THƯỢNG KHẨN #1\nTừ: Hoa")
    assert ((await _stored(env, 1)).urgency, (await _stored(env, 1)).urgent) == (
        "thuong_khan",
        False,
    )


async def test_an_amendment_typed_as_old_then_new(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    text = "Họp lúc 8 giờ tại hội trường Công an quận.\nMang theo báo cáo tuần."
    preview = await _compose(coordinator, text, "Khẩn", number="33/TB-CAQ")
    await coordinator.press(preview, "Gửi")
    sent = await coordinator.next_message()
    first = await officer.next_message()
    assert first.body.startswith("🔴 CHỈ ĐẠO KHẨN #1\nSố hiệu: 33/TB-CAQ")

    amend = callbacks.encode(callbacks.DirectiveAction(1, "amend"))
    await coordinator.await_answer(coordinator.press_data(sent, amend))
    ask = await coordinator.next_message()
    assert "nội dung mới cho chỉ đạo #1" in ask.body
    assert "cũ => mới" in ask.body
    assert ask.body.endswith("(bấm vào để sao chép):\n" + text)  # the whole text, to copy

    unknown = await coordinator.ask("9 giờ sáng => 10 giờ")
    assert "Không tìm thấy “9 giờ sáng”" in unknown.body
    assert "Bản sửa đổi chưa được gửi" in unknown.body
    twice = await coordinator.ask("ờ => ơ")
    assert "có ở" in twice.body
    await env.settle()
    assert not officer.unread(), "nothing was sent for a refused amendment"
    assert (await _stored(env, 1)).version == 1

    done = await coordinator.ask("8 giờ => 9 giờ 30")
    assert "bản sửa đổi" in done.body
    notice = await officer.next_message()
    assert notice.body.startswith("🔴 CHỈ ĐẠO KHẨN #1\nSố hiệu: 33/TB-CAQ")
    assert "• Họp lúc “8” → “9” giờ [thêm “30”] tại hội trường Công an quận." in notice.body
    assert notice.body.count("Mang theo báo cáo tuần.") == 1  # not shown twice
    assert "Họp lúc 9 giờ 30 giờ" not in notice.body
    stored = await _stored(env, 1)
    assert stored.text == text.replace("8 giờ", "9 giờ 30")
    assert (stored.version, stored.urgency) == (2, "khan")
    await officer.wait_until(lambda: "đã có bản sửa đổi" in first.body)
    answer = await officer.press(notice, "Đã nhận")
    assert answer.text is not None
    assert answer.text.startswith("✅")


def _next_local(env: BotEnv, hour: int) -> datetime:
    """The next ``hour``:00 in the organisation's time zone."""
    now = env.clock.now().astimezone(env.config.tz)
    moment = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment if moment > now else moment + timedelta(days=1)


async def test_hoa_toc_is_re_reminded_every_half_hour_in_quiet_hours(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    night = _next_local(env, 22)
    env.clock.advance(night - env.clock.now())
    for text, level in (("Báo cáo ngay tình hình mưa lũ.", "Hỏa tốc"), ("Rà soát.", "Thường")):
        await coordinator.press(await _compose(coordinator, text, level), "Gửi")
        await coordinator.next_message()
        await officer.next_message()  # the bot under test has no quiet hours of its own
    written = env.clock.now()
    # The scheduler runs with quiet hours 21:30–06:30 and Hỏa tốc every 30 minutes.
    timing = replace(RemindersConfig(), enabled=False, flash_remind_every=timedelta(minutes=30))
    config = replace(env.config, reminders=timing)

    async def sweep_after(delta: timedelta) -> list[str]:
        env.clock.advance(written + delta - env.clock.now())
        await Scheduler(env.db, env.clock, config, lambda: None).run("reminders")
        await env.settle()
        return [m.body for m in officer.unread()]

    assert await sweep_after(timedelta(minutes=20)) == []
    (first,) = await sweep_after(timedelta(minutes=31))
    assert first.startswith("🔔 NHẮC LẠI")
    assert "🔴 CHỈ ĐẠO HỎA TỐC #1" in first
    assert "(còn 23 giờ" in first  # a reminder says how long is left
    assert await sweep_after(timedelta(minutes=50)) == []
    (second,) = await sweep_after(timedelta(minutes=62))
    assert "🔴 CHỈ ĐẠO HỎA TỐC #1" in second
    assert "Rà soát." not in first + second, "the Thường directive waits for the morning"
