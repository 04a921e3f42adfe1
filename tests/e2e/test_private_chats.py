"""A member's chat is their private chat: groups get one short answer at most and nothing said
there is read; edits never rewrite history; guests hear their own language; text the database
would reject is kept cleaned."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core.i18n import t
from bot.emulator import Person
from bot.emulator.world import SimChat, SimMessage
from storage.models import DirectiveTarget, Member, Role, TaskReport
from tests.e2e.conftest import BotEnv
from tests.e2e.test_tasks import _setup, _task


def _from_bot(chat: SimChat) -> list[SimMessage]:
    return [m for m in chat.messages.values() if m.from_bot]


def _private_only(env: BotEnv, lang: str = "vi") -> str:
    return t(lang, "guard.private_only", bot=env.emulator.world.bot_username)


async def _member(env: BotEnv, person: Person) -> Member | None:
    async with env.db.session() as session:
        return await session.scalar(select(Member).where(Member.telegram_user_id == person.user.id))


async def _reports(env: BotEnv) -> list[TaskReport]:
    async with env.db.session() as session:
        return list(await session.scalars(select(TaskReport).order_by(TaskReport.id)))


async def test_start_with_a_code_in_a_group_registers_nobody(env: BotEnv) -> None:
    group = env.emulator.world.add_group("Tổ công tác Phúc Xá")
    newcomer = env.person("Lan")
    code = await env.invite("HN-BD-PX", auto=True)
    newcomer.send_in_group(group, f"/start {code}")
    newcomer.send_in_group(group, "xin chào cả tổ")
    newcomer.send_in_group(group, "/help@some_other_bot")
    await newcomer.wait_until(lambda: len(_from_bot(group)) >= 1)
    await env.settle()
    assert [m.body for m in _from_bot(group)] == [_private_only(env)]  # one answer, no more
    assert await _member(env, newcomer) is None

    welcome = await newcomer.ask(f"/start {code}")  # the code was not used up in the group
    assert "Chào mừng" in welcome.body
    member = await _member(env, newcomer)
    assert member is not None
    assert member.chat_id == newcomer.user.id


async def test_commands_and_form_answers_in_a_group_are_not_read(env: BotEnv) -> None:
    group = env.emulator.world.add_group("Ban Chỉ đạo Hà Nội")
    coordinator = await env.member("Hoa", "HN", Role.COORDINATOR)
    assert "bước 1/5" in (await coordinator.ask("/directive")).body  # a private form is open
    # A group gets 20 messages a minute: the bot spaces its answers 3 s apart, so three.
    commands = ["/me", "/invite", f"/task@{env.emulator.world.bot_username} 1"]
    for text in commands:
        coordinator.send_in_group(group, text)
    coordinator.send_in_group(group, "Nội dung này không phải chỉ đạo.")
    coordinator.send_in_group(group, "/tasks@some_other_bot")
    await coordinator.wait_until(lambda: len(_from_bot(group)) >= len(commands), within=20)
    await env.settle()
    assert [m.body for m in _from_bot(group)] == [_private_only(env)] * len(commands)
    assert coordinator.unread() == []  # nothing reached the private chat either

    step_two = await coordinator.ask("Rà soát địa điểm tổ chức Ngày hội.")
    assert step_two.body == t("vi", "compose.ask_target")  # the form took the private text


async def test_a_button_pressed_in_a_group_does_nothing(env: BotEnv) -> None:
    group = env.emulator.world.add_group("Tổ công tác Phúc Xá")
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    preview = await _compose_to_communes(coordinator)
    await coordinator.press(preview, "Gửi")
    copy = await officer.next_message()
    # A copy of the message with its button, pasted into a group by a modified client.
    pasted = env.emulator.world.add_message(
        group, True, text=copy.text, reply_markup=copy.reply_markup
    )
    answer = await officer.press(pasted, "Đã nhận")
    assert answer.text == t("vi", "guard.private_only_toast")
    async with env.db.session() as session:
        confirmed = list(await session.scalars(select(DirectiveTarget.confirmed_at)))
    assert confirmed == [None, None]
    real = await officer.press(copy, "Đã nhận")
    assert real.text is not None
    assert "Đã xác nhận" in real.text


async def _compose_to_communes(coordinator: Person) -> SimMessage:
    await coordinator.ask("/directive")
    targets = await coordinator.ask("Rà soát địa điểm tổ chức Ngày hội.")
    await coordinator.press(targets, "Xã/Phường")
    deadline = await coordinator.next_message()
    await coordinator.press(deadline, "24 giờ")
    urgency = await coordinator.next_message()
    await coordinator.press(urgency, "Thường")
    return await coordinator.next_message()


async def test_group_chatter_is_not_added_to_a_report_note(env: BotEnv) -> None:
    group = env.emulator.world.add_group("Tổ công tác Phúc Xá")
    district, an, _, _ = await _setup(env)
    await _task(district, "Treo băng rôn")
    await an.next_message()
    saved = await an.ask("/report 1 đang 40")  # the report now waits for a note
    assert "Đang thực hiện, 40%" in saved.body
    an.send_in_group(group, "Chuyện phiếm trong nhóm")
    await env.settle()
    assert _from_bot(group) == []
    noted = await an.ask("Đã treo 4/10 băng rôn")
    assert noted.body.startswith(t("vi", "report.note_added").split("{")[0][:20])
    notes = [r.note for r in await _reports(env)]
    assert "Chuyện phiếm trong nhóm" not in " ".join(notes)
    assert "Đã treo 4/10 băng rôn" in " ".join(notes)


async def test_an_edited_message_never_makes_or_changes_a_report(env: BotEnv) -> None:
    district, an, _, _ = await _setup(env)
    await _task(district, "Nộp kế hoạch chi tiết", days="3 ngày")
    await an.next_message()
    old = an.send("xin chào")  # an ordinary message, written before the deadline
    await an.next_message()
    real = an.send("/report 1 đang 40")
    assert "Đang thực hiện, 40%" in (await an.next_message()).body
    env.clock.advance(timedelta(days=20))  # long overdue

    an.edit(old, "/report 1 xong")  # backdating: the old message's date is 20 days ago
    assert (await an.next_message()).body == t("vi", "guard.edited")
    an.edit(real, "/report 1 xong")
    assert (await an.next_message()).body == t("vi", "guard.edited")
    await env.settle()
    reports = await _reports(env)
    assert [(r.state, r.progress) for r in reports] == [("in_progress", 40)]
    view = await district.ask("/task 1")
    assert "⏰ 2 quá hạn" in view.body  # both communes: neither has reported done


async def test_a_guest_is_answered_in_their_telegram_language(env: BotEnv) -> None:
    guest = env.emulator.person("Guest", language_code="en-US")
    assert (await guest.ask("/help")).body.startswith(t("en", "help.guest"))
    assert (await guest.ask("/start")).body == t("en", "start.no_code")
    assert (await guest.ask("/me")).body == t("en", "errors.not_registered")
    other = env.emulator.person("Invité", language_code="fr")  # not one of ours: the default
    assert (await other.ask("/start")).body == t("vi", "start.no_code")
    code = await env.invite("HN-BD-PX", auto=True)
    welcome = await guest.ask(f"/start {code}")
    assert welcome.body.startswith("Welcome, Guest")
    member = await _member(env, guest)
    assert member is not None
    assert member.language == "en"


async def test_text_the_database_rejects_is_kept_cleaned(env: BotEnv) -> None:
    district, _, _, _ = await _setup(env)
    await _task(district, "Treo băng rôn")
    officer = env.person("Nguyễn\x00", "An")
    code = await env.invite("HN-BD-PX", auto=True)
    assert "Chào mừng" in (await officer.ask(f"/start {code}")).body
    await env.settle()
    officer.read_all()
    assert "Đang thực hiện, 40%" in (await officer.ask("/report 1 đang 40")).body
    await officer.ask("Ghi\x00 chú")
    member = await _member(env, officer)
    assert member is not None
    assert member.full_name == "Nguyễn An"
    assert [r.note for r in await _reports(env)][-1] == "Ghi chú"
