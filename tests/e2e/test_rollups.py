"""Roll-ups by level at national shape, as the people at the top see them on their phones:
the committee's one line per province, pages, drill-down to a commune and back; a province
coordinator's own view of a national directive; an officer's /directives; forged buttons."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.emulator import Person
from bot.emulator.world import SimMessage
from bot.services import directives, plans
from bot.services.directives import Target
from bot.services.members import view_of
from storage.models import Member, OutboxMessage, OutboxStatus, Role
from tests import national
from tests.e2e.conftest import BotEnv

MAX = 4096
# The national tree beside the test tree every e2e test starts with (Hà Nội, Quảng Ninh and
# their three communes): 65 provinces, 3,027 communes, eight provinces a page.
COMMUNES, PAGES = 3024 + 3, 9


async def _scene(env: BotEnv) -> tuple[Person, Person, Person, dict[str, int]]:
    async with env.db.session() as session:
        codes = await national.build(
            session, env.clock, national.SEED, user=lambda: env.emulator.add_user("Cán bộ").id
        )
    top = await env.member("Ban", "BCA", Role.COORDINATOR)
    province = await env.member("Tỉnh", "T03", Role.COORDINATOR)
    officer = await env.member("Xã", "T03-H1-X1", Role.OFFICER)
    return top, province, officer, codes


async def _quietly(env: BotEnv, people: list[Person]) -> None:
    """The bulk officers' phones are not watched: what the scene queued for them is dropped,
    so the test waits for the three people it follows, not for 2,600 deliveries."""
    ids = [p.user.id for p in people]
    async with env.db.session() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.chat_id.not_in(ids))
            .values(status=OutboxStatus.CANCELLED)
        )
    await env.settle()
    for person in people:
        person.read_all()


async def _actor(env: BotEnv, person: Person):  # noqa: ANN202 - a test helper
    async with env.db.session() as session:
        member = await session.scalar(select(Member).where(Member.chat_id == person.user.id))
        assert member is not None
        return view_of(member).actor


def _fits(message: SimMessage) -> SimMessage:
    """One phone screen's worth: within Telegram's limit, at most three buttons a row."""
    assert len(message.body) <= MAX
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    assert all(len(row) <= 3 for row in rows), rows
    return message


def _latest(person: Person, message: SimMessage) -> SimMessage:
    return next(m for m in person.bot_messages() if m.message_id == message.message_id)


async def test_the_committee_goes_down_a_national_directive_and_a_province_sees_its_part(
    env: BotEnv,
) -> None:
    top, province, officer, codes = await _scene(env)
    async with env.db.session() as session:
        sent = await directives.send_directive(
            session, env.clock, await _actor(env, top), text="Triển khai Kế hoạch 333/KH-BCĐ",
            target=Target.parse("level:commune"), ack_by=env.clock.now() + timedelta(days=1),
            urgent=False, tz=env.config.tz,
        )  # fmt: skip
    await _quietly(env, [top, province, officer])

    listing = _fits(await top.ask("/directives"))
    assert f"#{sent.directive_id} [0/{COMMUNES}]" in listing.body
    await top.press(listing, f"#{sent.directive_id}")
    await env.until(lambda: "Theo đơn vị trực thuộc" in _latest(top, listing).body)
    page = _fits(_latest(top, listing))
    assert f"trang 1/{PAGES}" in page.body
    assert f"0/{COMMUNES} đơn vị đã xác nhận" in page.body
    assert "chưa có cán bộ đăng ký" in page.body  # ~15 % of communes have nobody
    assert page.body.count("\n1. ") + page.body.count("\n8. ") == 2
    labels = [b["text"] for b in page.buttons()]
    assert "Trang sau ➡️" in labels
    assert not any(label.startswith("⬆️") for label in labels)  # nothing above the committee

    await top.press(page, "Trang sau")
    await env.until(lambda: f"trang 2/{PAGES}" in _latest(top, listing).body)
    await top.press(_latest(top, listing), "9. ")  # the first province of page 2
    await env.until(lambda: "Phạm vi: Công an tỉnh số" in _latest(top, listing).body)
    opened = _fits(_latest(top, listing))
    assert "0/48 đơn vị đã xác nhận" in opened.body
    assert "trang 1/1" in opened.body  # its 6 districts
    await top.press(opened, "1. ")
    await env.until(lambda: "0/8 đơn vị" in _latest(top, listing).body)
    district = _latest(top, listing)
    await top.press(district, "1. ")
    await env.until(lambda: "Cán bộ của đơn vị" in _latest(top, listing).body
                    or "chưa có cán bộ nào" in _latest(top, listing).body)  # fmt: skip
    commune = _fits(_latest(top, listing))
    up = next(b["text"] for b in commune.buttons() if b["text"].startswith("⬆️"))
    await top.press(commune, up)
    await env.until(lambda: "0/8 đơn vị" in _latest(top, listing).body)

    # The province coordinator sees the same directive, for their own 48 communes.
    mine = _fits(await province.ask("/directives"))
    assert f"#{sent.directive_id} [0/48]" in mine.body
    # The officer of T03-H1-X1 has it in /directives, with ✅, and confirms for the commune.
    owed = _fits(await officer.ask("/directives"))
    assert f"#{sent.directive_id}" in owed.body
    await officer.press(owed, "✅")
    await env.settle()
    again = await province.ask("/directives")
    assert f"#{sent.directive_id} [1/48]" in again.body

    # Forged buttons: another province's unit, a page that is not there — nothing shown.
    await province.press(again, f"#{sent.directive_id}")
    await env.until(lambda: "Theo đơn vị trực thuộc" in _latest(province, again).body)
    view = _latest(province, again)
    answer = await province.await_answer(
        province.press_data(view, f"ru:d:{sent.directive_id}:{codes['T05']}:0")
    )
    assert "phạm vi" in (answer.text or "")
    answer = await province.await_answer(
        province.press_data(view, f"ru:d:{sent.directive_id}:{codes['T03']}:7")
    )
    assert "Không có trang 8" in (answer.text or "")
    assert _latest(province, again).body == view.body  # unchanged


async def test_a_province_coordinator_sees_a_national_task_by_code_and_the_whole_picture(
    env: BotEnv,
) -> None:
    top, province, officer, codes = await _scene(env)
    actor = await _actor(env, top)
    async with env.db.session() as session:
        plan = await plans.create_plan(
            session,
            env.clock,
            actor,
            code="333/KH-BCĐ",
            title="Ngày hội",
            event_date=(env.clock.now() + timedelta(days=30)).date(),
        )
        sent = await plans.create_task(
            session, env.clock, actor, plan.id, title="Rà soát địa điểm", description="",
            deadline=env.clock.now() + timedelta(days=3), target=Target.parse("level:commune"),
            tz=env.config.tz,
        )  # fmt: skip
    await _quietly(env, [top, province, officer])

    seen = _fits(await top.ask(f"/task {sent.task_id} T03"))
    assert "Phạm vi: Công an tỉnh số 3" in seen.body
    assert "0/48 hoàn thành" in seen.body
    theirs = _fits(await province.ask(f"/task {sent.task_id}"))
    assert "Phạm vi: Công an tỉnh số 3" in theirs.body
    refused = await province.ask(f"/task {sent.task_id} T05")
    assert "phạm vi" in refused.body
    whole = _fits(await province.ask("/status"))
    assert "TÌNH HÌNH CHUNG" in whole.body
    assert "0/48 việc hoàn thành" in whole.body
    history = await province.ask(f"/task {sent.task_id} T03-H1-X1")  # a commune: its history
    assert "Lịch sử" in history.body or "chưa báo cáo" in history.body
