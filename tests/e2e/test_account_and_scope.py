"""Help, profile, language, invitations in chat, and what members may not do."""

from storage.models import Role
from tests.e2e.conftest import BotEnv


async def test_language_switch_by_command_and_by_button(env: BotEnv) -> None:
    officer = await env.member("An", "HN-BD-PX")
    changed = await officer.ask("/lang en")
    assert changed.body == "Switched to English."
    help_en = await officer.ask("/help")
    assert help_en.body.startswith("Commands for officer")
    me = await officer.ask("/me")
    assert "Role: officer" in me.body
    assert "Language: English" in me.body
    menus = env.emulator.world.commands  # the new menu comes through the outbox
    key = f"chat:{officer.user.id}:"
    await env.until(lambda: menus.get(key, [{}])[0].get("description") == "Commands you can use")

    chooser = await officer.ask("/lang")
    assert [b["text"] for b in chooser.buttons()] == ["🇻🇳 Tiếng Việt", "🇬🇧 English"]
    answer = await officer.press(chooser, "Tiếng Việt")
    assert answer.text == "Đã chuyển sang tiếng Việt."
    await officer.wait_until(lambda: chooser.body == "Đã chuyển sang tiếng Việt.")
    back = await officer.ask("/help")
    assert back.body.startswith("Các lệnh dành cho cán bộ")
    unknown = await officer.ask("/lang fr")
    assert "không hỗ trợ" in unknown.body


async def test_help_depends_on_role(env: BotEnv) -> None:
    guest_help = await env.person("Khách").ask("/help")
    assert "chưa đăng ký" in guest_help.body
    assert "/invite" not in guest_help.body
    officer = await env.member("An", "HN-BD-PX")
    assert "/invite" not in (await officer.ask("/help")).body
    coordinator = await env.member("Hoa", "HN", Role.COORDINATOR)
    coordinator_help = await coordinator.ask("/help")
    assert "/invite" in coordinator_help.body
    assert "/me" in coordinator_help.body


async def test_guest_cannot_see_a_profile(env: BotEnv) -> None:
    reply = await env.person("Khách").ask("/me")
    assert "chưa đăng ký" in reply.body


async def test_unknown_command_and_stray_text_get_a_next_step(env: BotEnv) -> None:
    officer = await env.member("An", "HN-BD-PX")
    assert "Lệnh không tồn tại" in (await officer.ask("/xyz")).body
    assert "/help" in (await officer.ask("xin chào")).body
    long_text = await officer.ask("a" * 4000)
    assert "chưa hiểu" in long_text.body


async def test_coordinator_invites_in_subtree_only(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    reply = await coordinator.ask("/invite HN-BD-TB officer 3 2d")
    assert reply.photo, "a QR code comes with the link"
    assert "Trúc Bạch" in reply.body
    assert "3 lượt" in reply.body
    link = next(word for word in reply.body.split() if word.startswith("https://t.me/"))
    code = link.split("start=")[1]
    newcomer = env.person("Mới")
    assert "Đã nhận đăng ký" in (await newcomer.ask(f"/start {code}")).body
    request = await coordinator.next_message()
    assert "Mới" in request.body

    assert "ngoài phạm vi" in (await coordinator.ask("/invite QN-HL-BC")).body
    assert "không được phép" in (await coordinator.ask("/invite HN-BD admin")).body
    assert "Không tìm thấy đơn vị" in (await coordinator.ask("/invite NOPE")).body
    assert "Cách dùng" in (await coordinator.ask("/invite A B C")).body
    own_unit = await coordinator.ask("/invite")
    assert "Ba Đình" in own_unit.body


async def test_officer_cannot_invite(env: BotEnv) -> None:
    officer = await env.member("An", "HN-BD-PX")
    reply = await officer.ask("/invite")
    assert "không được phép" in reply.body


async def test_forged_and_tampered_buttons_change_nothing(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    outsider = await env.member("Bảo", "QN", Role.COORDINATOR)
    officer = await env.member("Đức", "HN-BD-PX")
    pending = env.person("Chờ")
    pending.send(f"/start {await env.invite('HN-BD-TB')}")
    request = await coordinator.next_message()
    data = request.buttons()[0]["callback_data"]

    # another member's phone replays the payload against their own chat message
    own = await outsider.ask("/me")
    refused = await outsider.await_answer(outsider.press_data(own, data))
    assert refused.text is not None
    assert "ngoài phạm vi" in refused.text
    not_allowed = await officer.await_answer(officer.press_data(own, data))
    assert not_allowed.text is not None
    assert "không được phép" in not_allowed.text
    for forged in ("md:999999:y", "md:1:maybe", "xx", "md:" + "9" * 40 + ":y", "lang:klingon"):
        answer = await coordinator.await_answer(coordinator.press_data(request, forged))
        assert answer.text == "Nút này không còn hiệu lực. Không có gì thay đổi."
    assert request.buttons(), "the real request is still open"
    stranger = env.person("Lạ")
    guest_answer = await stranger.await_answer(stranger.press_data(request, data))
    assert guest_answer.text is not None
    answer = await coordinator.press(request, "Phê duyệt")
    assert answer.text == "Đã phê duyệt."
