"""Registration, approval and rejection, as members see them in Telegram."""

from datetime import timedelta

from sqlalchemy import select

from storage.models import AuditEvent, Member, MemberStatus, Role
from tests.e2e.conftest import BotEnv


async def _status(env: BotEnv, user_id: int) -> str | None:
    async with env.db.session() as session:
        member = await session.scalar(select(Member).where(Member.telegram_user_id == user_id))
        return member.status if member else None


async def test_start_without_code_explains_how_to_register(env: BotEnv) -> None:
    guest = env.person("Khách")
    reply = await guest.ask("/start")
    assert "link mời" in reply.body
    assert "/start MÃ_MỜI" in reply.body


async def test_register_and_get_approved(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = env.person("An", "Nguyễn", "nvan")
    code = await env.invite("HN-BD-PX")

    reply = await officer.ask(f"/start {code}")
    assert "chờ điều phối viên phê duyệt" in reply.body
    assert await _status(env, officer.user.id) == MemberStatus.PENDING

    request = await coordinator.next_message()
    assert "An Nguyễn" in request.body
    assert "Phúc Xá" in request.body
    assert [b["text"] for b in request.buttons()] == ["✅ Phê duyệt", "❌ Từ chối"]

    answer = await coordinator.press(request, "Phê duyệt")
    assert answer.text == "Đã phê duyệt."
    approved = await officer.next_message()
    assert "đã được phê duyệt" in approved.body
    await coordinator.wait_until(lambda: not request.buttons())
    assert "Hoa" in request.body
    assert "phê duyệt" in request.body
    assert await _status(env, officer.user.id) == MemberStatus.ACTIVE
    await env.until(lambda: "me" in officer.commands())  # the menu comes through the outbox
    assert "invite" not in officer.commands()
    assert "invite" in coordinator.commands()

    me = await officer.ask("/me")
    assert "Phúc Xá" in me.body
    assert "cán bộ" in me.body
    assert "đang hoạt động" in me.body
    async with env.db.session() as session:
        actions = list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert "member.register" in actions
    assert "member.approve" in actions


async def test_register_and_get_rejected(env: BotEnv) -> None:
    coordinator = await env.member("Bảo", "QN", Role.COORDINATOR)
    officer = env.person("Bình")
    officer.send(f"/start {await env.invite('QN-HL-BC')}")
    await officer.next_message()
    request = await coordinator.next_message()
    answer = await coordinator.press(request, "Từ chối")
    assert answer.text == "Đã từ chối."
    rejected = await officer.next_message()
    assert "không được phê duyệt" in rejected.body
    assert await _status(env, officer.user.id) == MemberStatus.REJECTED
    help_reply = await officer.ask("/help")
    assert "/invite" not in help_reply.body


async def test_every_coordinator_copy_is_closed_when_one_decides(env: BotEnv) -> None:
    first = await env.member("Một", "HN", Role.COORDINATOR)
    second = await env.member("Hai", "HN", Role.COORDINATOR)
    officer = env.person("Cường")
    officer.send(f"/start {await env.invite('HN-BD-TB')}")
    request_1 = await first.next_message()
    request_2 = await second.next_message()
    stale = request_2.buttons()[0]["callback_data"]
    await first.press(request_1, "Phê duyệt")
    await second.wait_until(lambda: not request_2.buttons())
    assert "Một" in request_2.body
    late = await second.await_answer(second.press_data(request_2, stale))
    assert late.text is not None
    assert "đã được xử lý" in late.text
    assert await _status(env, officer.user.id) == MemberStatus.ACTIVE


async def test_wrong_code_expired_code_and_used_up_code(env: BotEnv) -> None:
    wrong = await env.person("Sai").ask("/start KHONG-CO-MA-NAY")
    assert "Mã mời không đúng" in wrong.body
    bad_format = await env.person("Lạ").ask("/start mã-có-dấu")
    assert "chỉ gồm chữ cái" in bad_format.body

    short = await env.invite("HN-BD-PX", ttl=timedelta(hours=1))
    env.clock.advance(timedelta(hours=2))
    expired = await env.person("Muộn").ask(f"/start {short}")
    assert "hết hạn" in expired.body

    once = await env.invite("HN-BD-PX", uses=1)
    first = await env.person("Nhanh").ask(f"/start {once}")
    assert "Đã nhận đăng ký" in first.body
    assert "chưa có điều phối viên" in first.body
    used = await env.person("Chậm").ask(f"/start {once}")
    assert "dùng hết lượt" in used.body


async def test_tries_are_limited_per_user(env: BotEnv) -> None:
    guesser = env.person("Đoán")
    for attempt in range(5):
        reply = await guesser.ask(f"/start guess{attempt}")
        assert "Mã mời không đúng" in reply.body
    good = await env.invite("HN-BD-PX")
    blocked = await guesser.ask(f"/start {good}")
    assert "quá nhiều lần" in blocked.body
    assert await _status(env, guesser.user.id) is None
    env.clock.advance(timedelta(minutes=11))
    allowed = await guesser.ask(f"/start {good}")
    assert "Đã nhận đăng ký" in allowed.body


async def test_already_registered_member_keeps_their_unit(env: BotEnv) -> None:
    officer = await env.member("Đức", "HN-BD-PX")
    reply = await officer.ask(f"/start {await env.invite('QN-HL-BC')}")
    assert "đã là thành viên" in reply.body
    assert "Phúc Xá" in reply.body
    back = await officer.ask("/start")
    assert "Chào đồng chí Đức" in back.body
