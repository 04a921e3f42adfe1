"""Initiatives end to end: an officer submits text and photos, the coordinator above features
it to their subtree, and only that subtree hears of it."""

from __future__ import annotations

from storage.models import Role
from tests.e2e.conftest import BotEnv


async def test_initiative_with_photos_is_featured_to_the_subtree(env: BotEnv) -> None:
    district = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    an = await env.member("An", "HN-BD-PX")
    binh = await env.member("Bình", "HN-BD-TB")
    outsider = await env.member("Dũng", "QN-HL-BC")

    assert "sáng kiến" in (await an.ask("/initiative")).body.lower()
    so_far = await an.ask("Mô hình camera an ninh do dân tự quản")
    assert "Đã nhận: 37 ký tự, 0 ảnh" in so_far.body
    an.send_photo("Camera ở ngõ 12")
    so_far = await an.next_message()
    assert "1 ảnh" in so_far.body
    an.send_document("mo-ta.pdf")
    assert "chỉ nhận ảnh" in (await an.next_message()).body
    await an.press(so_far, "Gửi")
    assert "Đã gửi sáng kiến #1 tới 1" in (await an.next_message()).body

    photo = await district.next_message()
    assert photo.photo is not None
    notice = await district.next_message()
    assert "SÁNG KIẾN #1 — Công an phường Phúc Xá (1 ảnh)" in notice.body
    assert "Camera ở ngõ 12" in notice.body
    answer = await district.press(notice, "Giới thiệu")
    assert answer.text is not None
    assert "Đã giới thiệu tới" in answer.text

    await env.until(lambda: any("MÔ HÌNH HAY" in m.body for m in binh.bot_messages()))
    shared = [m for m in binh.bot_messages() if m.photo or "MÔ HÌNH HAY" in m.body]
    assert shared[0].photo is not None, "the photo comes before the text presenting it"
    assert "camera an ninh" in shared[1].body
    again = await district.press(notice, "Giới thiệu")
    assert again.text is not None
    assert "đã được giới thiệu rồi" in again.text
    await env.settle()
    assert not [m for m in outsider.bot_messages() if "MÔ HÌNH HAY" in m.body]

    listing = await district.ask("/initiatives")
    assert "⭐ #1 Công an phường Phúc Xá" in listing.body
    refused = await an.await_answer(an.press_data(notice, "if:1"))
    assert refused.text is not None
    assert "không được phép" in refused.text
