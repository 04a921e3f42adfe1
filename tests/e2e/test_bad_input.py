"""What a hostile or careless member types and taps, through the real bot and the emulator:
every case gets a clear answer in the member's language, and nothing is stored wrongly."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.core.clock import ManualClock
from bot.core.i18n import t
from bot.core.parsing import MAX_ID
from bot.emulator import Person
from bot.services import directives
from bot.services.authz import Actor
from bot.services.confirmations import Tap
from bot.services.directives import Target
from bot.services.units import import_units
from bot.tapqueue import TapQueue
from storage.models import DirectiveTarget, Role, TaskReport
from storage.repositories.members import MemberRepository
from tests.e2e.conftest import BotEnv
from tests.factories import make_member

PLAN = ["/plan", "KH-1", "Ngày hội", "19/08/2030"]


async def _task(env: BotEnv, coordinator: Person) -> None:
    """Plan KH-1 and task #1 for the communes of Ba Đình, through the chat forms."""
    for line in PLAN:
        await coordinator.ask(line)
    plans = await coordinator.ask("/task")
    await coordinator.press(plans, "KH-1")
    await coordinator.next_message()
    await coordinator.press(await coordinator.ask("Rà soát địa điểm"), "Bỏ qua")
    await coordinator.press(await coordinator.next_message(), "Xã/Phường")
    await coordinator.press(await coordinator.next_message(), "7 ngày")
    await coordinator.press(await coordinator.next_message(), "Giao")
    assert "#1" in (await coordinator.next_message()).body
    await env.settle()


async def _reports(env: BotEnv) -> int:
    async with env.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(TaskReport)) or 0)


async def test_numbers_that_used_to_crash_or_be_guessed_get_a_clear_answer(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    await _task(env, coordinator)
    officer.read_all()

    # 4,000 digits: the longest number one message can carry (a phone splits longer texts).
    for typed in ("/task ²", "/task ٥٠", f"/task {MAX_ID + 1}", "/task " + "9" * 4000):
        answer = await coordinator.ask(typed)
        assert "Không có nhiệm vụ số" in answer.body, (typed[:20], answer.body)
    for typed in ("/report ² xong", f"/report {MAX_ID + 1} xong"):
        assert "Không có nhiệm vụ số" in (await officer.ask(typed)).body
    for progress in ("-5", "150", "٥٠", "9" * 4000):
        answer = await officer.ask(f"/report 1 đang {progress} ghi chú")
        assert "không đọc được" in answer.body, (progress[:20], answer.body)
        assert "Báo cáo chưa được ghi" in answer.body
    assert await _reports(env) == 0, "no report with a guessed progress"
    assert "Đã ghi" in (await officer.ask("/report 1 đang 60 ghi chú")).body
    assert await _reports(env) == 1


async def test_invitation_validity_and_uses_out_of_bounds(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    for typed in ("0d", "99999999999d", "30m", "٥d"):
        answer = await coordinator.ask(f"/invite HN-BD-PX {typed}")
        assert "Thời hạn link mời" in answer.body, (typed, answer.body)
        assert "Link mời chưa được tạo" in answer.body
    for typed in ("0", "²", "99999"):
        answer = await coordinator.ask(f"/invite HN-BD-PX {typed}")
        assert "Số lượt dùng" in answer.body, (typed, answer.body)
    made = await coordinator.ask("/invite HN-BD-PX 2 12h")
    assert made.photo is not None or "t.me/" in (made.caption or made.body)


async def _to_preview(coordinator: Person) -> object:
    await coordinator.ask("/directive")
    invisible = await coordinator.ask("\u200b")
    assert "bước 1/5" in invisible.body, "a zero-width character is no directive"
    await coordinator.press(await coordinator.ask("Rà soát địa điểm."), "Toàn bộ")
    deadline = await coordinator.next_message()
    for typed in ("5", "99999999999d", "31/12/9999", "٣٦h"):
        refused = await coordinator.ask(typed)
        assert refused.body == t("vi", "compose.bad_deadline"), typed
    await coordinator.press(deadline, "24 giờ")
    await coordinator.press(await coordinator.next_message(), "Thường")
    return await coordinator.next_message()


async def test_forged_form_buttons_change_nothing_and_keep_the_form(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    preview = await _to_preview(coordinator)
    for forged in ("cp:s:maybe", "cp:t:l9", "cp:u:1", "cp:d:5", "tk:1\ud800", "cp:s:send\n"):
        answer = await coordinator.await_answer(coordinator.press_data(preview, forged))
        assert answer.text is not None, forged
        assert "Không có gì thay đổi" in answer.text, (forged, answer.text)
    assert not coordinator.unread(), "a forged button says so in its answer, nothing more"
    events: list[str] = []
    env.emulator.world.listeners.append(lambda event, _: events.append(event))
    sent = await coordinator.press(preview, "Gửi")
    assert sent.text is None or "Không có gì thay đổi" not in sent.text
    assert "Đã gửi chỉ đạo #1" in (await coordinator.next_message()).body
    assert "CHỈ ĐẠO #1" in (await officer.next_message()).body
    # The tap is answered after what it did is stored and told (a crash in between leaves
    # it unanswered, and the error reply then says nothing was saved).
    assert events.index("answer") > events.index("bot_message"), events


async def test_a_coordinator_demoted_with_the_form_open_is_told_at_send(env: BotEnv) -> None:
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    officer = await env.member("An", "HN-BD-PX")
    preview = await _to_preview(coordinator)
    async with env.db.session() as session:
        member = await MemberRepository(session).get_by_telegram_id(coordinator.user.id)
        assert member is not None
        member.role = Role.OFFICER
    answer = await coordinator.press(preview, "Gửi")
    told = await coordinator.next_message()
    assert t("vi", "authz.role_denied") in told.body
    assert "Chỉ đạo chưa được gửi" in told.body
    assert answer.text is None or "Không có gì thay đổi" not in answer.text
    await env.settle()
    assert not officer.unread(), "nothing went out"
    async with env.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(DirectiveTarget)) == 0


async def _many_communes(env: BotEnv, count: int) -> list[str]:
    codes = [f"HN-BD-X{n:02d}" for n in range(count)]
    rows = "".join(f"{c},Công an xã {c},commune,HN-BD\n" for c in codes)
    async with env.db.session() as session:
        await import_units(
            session, env.clock, Actor.system(), f"code,name,level,parent_code\n{rows}".encode()
        )
    return codes


async def test_twenty_genuine_taps_and_one_forged_in_one_moment(env: BotEnv) -> None:
    codes = await _many_communes(env, 20)
    people = [env.person(f"Cán bộ {n}") for n in range(20)]
    forger = env.person("Giả")
    async with env.db.session() as session:
        for person, code in zip(people, codes, strict=True):
            await make_member(session, env.clock, code, telegram_user_id=person.user.id)
        await make_member(session, env.clock, codes[0], telegram_user_id=forger.user.id)
        sent = await directives.send_directive(
            session,
            env.clock,
            Actor.system(),
            text="Rà soát địa điểm.",
            target=Target.parse("list:" + ",".join(codes)),
            ack_by=env.clock.now() + timedelta(hours=24),
            urgent=True,
            tz=env.config.tz,
        )
    copies = [await p.next_message() for p in people]
    forged_copy = await forger.next_message()
    # All in one moment: the forged tap first, so a batch would hold it with the others.
    queries = [forger.press_data(forged_copy, f"dc:{2**31}:1")]
    queries += [
        p.press_data(c, f"dc:{sent.directive_id}:1") for p, c in zip(people, copies, strict=True)
    ]
    answers = [await p.await_answer(q) for p, q in zip([forger, *people], queries, strict=True)]
    assert answers[0].text == t("vi", "errors.stale_button")
    assert all(a.text and "Đã xác nhận cho đơn vị" in a.text for a in answers[1:]), answers
    async with env.db.session() as session:
        confirmed = await session.scalar(
            select(func.count())
            .select_from(DirectiveTarget)
            .where(DirectiveTarget.confirmed_at.is_not(None))
        )
    assert confirmed == 20


async def test_a_failing_batch_is_decided_again_tap_by_tap(env: BotEnv) -> None:
    """Behind the codec, the queue's own defence: a tap that makes the whole transaction fail
    (a user id no integer column holds) costs only itself, not the taps beside it."""
    codes = await _many_communes(env, 3)
    async with env.db.session() as session:
        members = [await make_member(session, env.clock, code) for code in codes]
        sent = await directives.send_directive(
            session,
            env.clock,
            Actor.system(),
            text="Rà soát.",
            target=Target.parse("list:" + ",".join(codes)),
            ack_by=env.clock.now() + timedelta(hours=24),
            urgent=True,
            tz=env.config.tz,
        )
    queue = TapQueue(env.db, ManualClock(env.clock.now()), env.config.tz)
    loop = asyncio.get_running_loop()
    taps = [Tap(m.telegram_user_id, sent.directive_id, 1) for m in members]
    taps.insert(1, Tap(2**70, sent.directive_id, 1))  # never let in by submit(): see possible()
    batch = [(tap, loop.create_future()) for tap in taps]
    await queue._decide(batch)  # noqa: SLF001 - the batch path itself is what is tested
    assert queue.retried == 1
    bad = batch.pop(1)[1]
    assert bad.exception() is not None
    results = [future.result() for _, future in batch]
    assert all(r.result is not None and r.result.outcome == "confirmed" for r in results)


async def test_nul_and_invisible_text_in_the_task_form(env: BotEnv) -> None:
    """PostgreSQL refuses NUL (also inside the form's JSON); text of zero-width characters only
    is no title. Each is told or cleaned, and the form goes on."""
    coordinator = await env.member("Hoa", "HN-BD", Role.COORDINATOR)
    for line in PLAN:
        await coordinator.ask(line)
    await coordinator.press(await coordinator.ask("/task"), "KH-1")
    await coordinator.next_message()
    invisible = await coordinator.ask("\u200b\u200c")
    assert t("vi", "plan.empty_title") in invisible.body
    described = await coordinator.ask("Rà\x00 soát địa điểm")
    assert [b["text"] for b in described.buttons()] == [t("vi", "taskform.skip")]
    await coordinator.ask("Mô tả\x00 có ký tự rỗng")
    await coordinator.press(coordinator.last(), "Xã/Phường")
    await coordinator.press(await coordinator.next_message(), "7 ngày")
    preview = await coordinator.next_message()
    assert "Rà soát địa điểm" in preview.body
    await coordinator.press(preview, "Giao")
    assert "#1" in (await coordinator.next_message()).body
