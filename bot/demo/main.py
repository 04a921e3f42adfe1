"""``make demo``: a sample organisation, the real bot against the emulator, simulated people.

Prints what each person saw. Exits non-zero if anyone did not see what they should have.
"""

from __future__ import annotations

import asyncio
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.core.clock import Clock, ShiftedClock
from bot.core.config import Config
from bot.core.i18n import t
from bot.demo import national as demo_national
from bot.demo import reminders as demo_reminders
from bot.demo import tasks as demo_tasks
from bot.emulator import BotApiEmulator, LimitSettings, Person
from bot.emulator.config import config_for_emulator
from bot.emulator.world import SimMessage
from bot.runner import serve
from bot.services import onboarding
from bot.services import units as unit_service
from bot.services.authz import Actor
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Role

SAMPLE_UNITS = """code,name,level,parent_code
BCA,Bộ Công an — Ban Chỉ đạo,ministry,
HNI,Công an TP Hà Nội,province,BCA
HNI-BD,Công an quận Ba Đình,district,HNI
HNI-BD-PX,Công an phường Phúc Xá,commune,HNI-BD
HNI-BD-TB,Công an phường Trúc Bạch,commune,HNI-BD
QNI,Công an tỉnh Quảng Ninh,province,BCA
QNI-HL,Công an TP Hạ Long,district,QNI
QNI-HL-BC,Công an phường Bãi Cháy,commune,QNI-HL
DNG,Công an TP Đà Nẵng,province,BCA
DNG-HC,Công an quận Hải Châu,district,DNG
DNG-HC-TB,Công an phường Thạch Thang,commune,DNG-HC
"""

DEMO_START = time(9, 0)  # local time of day at which the demo's story begins


class Transcript:
    """Prints what each simulated person sends and sees, as it happens."""

    def __init__(self, emulator: BotApiEmulator, quiet: bool) -> None:
        self.quiet = quiet
        self.names: dict[int, str] = {}
        emulator.world.listeners.append(self.on_event)

    def know(self, person: Person) -> None:
        self.names[person.user.id] = person.name

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def scene(self, name: str) -> None:
        self.say(f"\n━━ {t(None, 'demo.' + name)} ━━")

    def on_event(self, event: str, data: dict[str, Any]) -> None:
        if event == "user_message":
            message: SimMessage = data["message"]
            sent = message.text
            if sent is None:
                sent = ("🖼 " if message.photo else "📎 ") + (message.caption or "")
            self.say(f"[{data['person'].name}] ➜ {sent}")
        elif event == "user_press":
            label = next(
                (
                    b["text"]
                    for b in data["message"].buttons()
                    if b.get("callback_data") == data["data"]
                ),
                data["data"],
            )
            self.say(f"[{data['person'].name}] 👆 {label}")
        elif event in ("bot_message", "bot_edit"):
            message = data["message"]
            who = self.names.get(message.chat_id, str(message.chat_id))
            mark = t(None, "demo.edited") if event == "bot_edit" else "⬅"
            body = message.body + (" 🖼" if message.photo else "")
            self.say(textwrap.indent(body, "    ").replace("    ", f"[{who}] {mark} ", 1))
            buttons = message.buttons()
            if buttons:
                self.say("      " + "  ".join(f"[{b['text']}]" for b in buttons))
        elif event == "answer" and data["answer"].text:
            self.say("      " + t(None, "demo.answer", text=data["answer"].text))


def _shows(message: SimMessage, text: str) -> Callable[[], bool]:
    """Whether ``message``, as it reads now (edits change it), contains ``text``."""
    return lambda: text in message.body


class DemoFailed(Exception):
    pass


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailed(what)


def _morning_clock(config: Config) -> ShiftedClock:
    """Real time moved on to the next 09:00 local: the demo plays a working day whenever it
    runs, never the night, when quiet hours would hold its messages until the morning."""
    now = datetime.now(UTC)
    local = now.astimezone(config.tz)
    morning = datetime.combine(local.date(), DEMO_START, config.tz)
    if morning <= local:
        morning += timedelta(days=1)
    return ShiftedClock(morning - now)


async def _prepare(db: Database, clock: Clock) -> dict[str, str]:
    """Load the tree and make the invitations an admin would make with the CLI."""
    await upgrade(db.engine)
    admin = Actor.system()
    async with db.session() as session:
        await unit_service.import_units(session, clock, admin, SAMPLE_UNITS.encode())
        codes = {}
        for name, unit, role, uses, auto in (
            ("ministry", "BCA", Role.COORDINATOR, 1, True),
            ("hanoi", "HNI", Role.COORDINATOR, 1, True),
            ("phucxa", "HNI-BD-PX", Role.OFFICER, 5, False),
            ("baichay", "QNI-HL-BC", Role.OFFICER, 5, False),
            ("baichay_auto", "QNI-HL-BC", Role.OFFICER, 1, True),
            ("thachthang", "DNG-HC-TB", Role.OFFICER, 1, True),
            ("trucbach", "HNI-BD-TB", Role.OFFICER, 1, True),
        ):
            created = await onboarding.create_invitation(
                session,
                clock,
                admin,
                unit,
                role,
                uses=uses,
                ttl=Config().onboarding.invite_ttl,
                auto_approve=auto,
            )
            codes[name] = created.code
    return codes


async def run_demo(quiet: bool = False) -> int:
    with tempfile.TemporaryDirectory(prefix="fieldbot-demo-") as tmp:
        emulator = BotApiEmulator(limits=LimitSettings(latency_min=0.01, latency_max=0.04))
        await emulator.start()
        transcript = Transcript(emulator, quiet)
        config = config_for_emulator(
            emulator.base_url, emulator.token, f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        )
        # The demo runs the scheduler's jobs itself, in step with its accelerated clock.
        config = replace(config, reminders=replace(config.reminders, enabled=False))
        clock = _morning_clock(config)  # real time that the demo can fast-forward
        db = Database(config.database.url)
        codes = await _prepare(db, clock)
        await db.dispose()
        stop, started = asyncio.Event(), asyncio.Event()
        bot_task = asyncio.create_task(serve(config, stop, clock=clock, started=started))
        try:
            await asyncio.wait_for(started.wait(), 30)
            people = await _play(emulator, transcript, codes)
            await _directive(emulator, transcript, codes, people, clock)
            await demo_tasks.play(transcript, people, expect)
            await demo_reminders.play(transcript, people, expect, config, clock)
            stop.set()  # the second act is a bot of its own on the national tree
            await bot_task
            await demo_national.play(emulator, transcript, expect, config, clock, Path(tmp))
            print("\n" + t(None, "demo.finished"), flush=True)
            return 0
        except DemoFailed as failure:
            print("\n" + t(None, "demo.failed", what=failure), flush=True)
            return 1
        finally:
            stop.set()
            await bot_task
            await emulator.stop()


async def _play(emu: BotApiEmulator, show: Transcript, codes: dict[str, str]) -> dict[str, Person]:
    people = {
        "bao": emu.person("Trần Quốc", "Bảo", "tqbao"),
        "hoa": emu.person("Lê Thị", "Hoa", "lthoa"),
        "an": emu.person("Nguyễn Văn", "An", "nvan"),
        "binh": emu.person("Phạm Thanh", "Bình"),
        "cuong": emu.person("Đỗ Mạnh", "Cường"),
    }
    for person in people.values():
        show.know(person)
    bao, hoa, an, binh, cuong = (people[k] for k in ("bao", "hoa", "an", "binh", "cuong"))

    show.scene("coordinators")
    reply = await bao.ask(f"/start {codes['ministry']}")
    expect("Chào mừng" in reply.body, "the ministry coordinator is active at once")
    reply = await hoa.ask(f"/start {codes['hanoi']}")
    expect("Chào mừng" in reply.body, "the Hà Nội coordinator is active at once")

    show.scene("register")
    hoa.read_all()
    reply = await an.ask(f"/start {codes['phucxa']}")
    expect("chờ điều phối viên phê duyệt" in reply.body, "the officer waits for approval")
    request = await hoa.next_message()
    expect("Yêu cầu đăng ký mới" in request.body, "the Hà Nội coordinator is asked to approve")

    show.scene("approve")
    stale_data = request.buttons()[1]["callback_data"]  # what the phone keeps if it lags
    an.read_all()
    answer = await hoa.press(request, "Phê duyệt")
    expect(answer.text == "Đã phê duyệt.", "the tap is answered")
    approved = await an.next_message()
    expect("đã được phê duyệt" in approved.body, "the officer learns of the approval")
    await hoa.wait_until(lambda: not request.buttons())
    expect("đã được" in request.body, "the approval request now shows the decision")

    show.scene("stale_tap")
    again = await hoa.await_answer(hoa.press_data(request, stale_data))
    expect(again.text is not None and "đã được xử lý" in again.text, "a second tap changes nothing")

    show.scene("reject")
    bao.read_all()
    binh.send(f"/start {codes['baichay']}")
    await binh.next_message()
    request = await bao.next_message()
    binh.read_all()
    await bao.press(request, "Từ chối")
    rejected = await binh.next_message()
    expect("không được phê duyệt" in rejected.body, "the rejected officer is told")

    show.scene("wrong_code")
    reply = await cuong.ask("/start SAI-MA-123")
    expect("Mã mời không đúng" in reply.body, "a wrong code gets a clear answer")

    show.scene("profile")
    reply = await an.ask("/me")
    expect("Phúc Xá" in reply.body, "/me shows the unit")
    reply = await an.ask("/lang en")
    expect("English" in reply.body, "the language switch is confirmed in English")
    reply = await an.ask("/help")
    expect("Commands for officer" in reply.body, "help is in English now")
    reply = await hoa.ask("/invite HNI-BD-TB officer 3")
    expect("t.me/" in reply.body and bool(reply.photo), "a coordinator gets a link and a QR code")
    reply = await hoa.ask("/invite QNI-HL-BC")
    expect("ngoài phạm vi" in reply.body, "a coordinator cannot invite outside their subtree")
    return people


async def _directive(
    emu: BotApiEmulator,
    show: Transcript,
    codes: dict[str, str],
    people: dict[str, Person],
    clock: ShiftedClock,
) -> None:
    bao, an = people["bao"], people["an"]
    officers = {
        "hung": ("Vũ Văn", "Hùng", "baichay_auto"),
        "lan": ("Ngô Thị", "Lan", "thachthang"),
        "minh": ("Hoàng Đức", "Minh", "trucbach"),
    }
    for key, (first, last, code) in officers.items():
        person = emu.person(first, last)
        show.know(person)
        await person.ask(f"/start {codes[code]}")
        people[key] = person
    hung, lan, minh = people["hung"], people["lan"], people["minh"]
    minh.block_bot()

    show.scene("directive_compose")
    await bao.ask("/directive")
    targets = await bao.ask(
        "Đề nghị Công an các xã, phường rà soát địa điểm tổ chức Ngày hội toàn dân bảo vệ an "
        "ninh Tổ quốc và báo cáo phương án bảo đảm an ninh, trật tự."
    )
    await bao.press(targets, "Xã/Phường")
    await bao.press(await bao.next_message(), "24 giờ")
    await bao.press(await bao.next_message(), "Khẩn")
    preview = await bao.next_message()
    expect("4 đơn vị, 4 cán bộ" in preview.body, "the preview counts the communes and members")
    await bao.press(preview, "Gửi")
    expect("Đã gửi chỉ đạo #1" in (await bao.next_message()).body, "the directive is sent")

    show.scene("directive_confirm")
    copies = {p: await p.next_message() for p in (an, hung, lan)}
    expect(all("#1" in m.body for m in copies.values()), "every reachable officer got it")
    await an.press(copies[an], "Received")
    await hung.press(copies[hung], "Đã nhận")
    hoa = people["hoa"]  # Trúc Bạch's nearest coordinator is in Hà Nội
    await hoa.wait_until(lambda: "chặn bot" in hoa.last().body)
    clock.advance(timedelta(hours=25))  # a day later, after the deadline
    answer = await lan.press(copies[lan], "Đã nhận")
    expect(answer.text is not None and "sau hạn" in answer.text, "a late confirmation is marked")

    show.scene("directive_status")
    listing = await bao.ask("/directives")
    expect("[3/4]" in listing.body, "the list shows 3 of 4 units confirmed")
    await bao.press(listing, "#1")
    await bao.wait_until(lambda: "📊" in listing.body)
    expect("3/4 đơn vị đã xác nhận" in listing.body, "one line per province, worst first")
    for level in ("TP Hà Nội", "quận Ba Đình", "phường Trúc Bạch"):  # down to the silent unit
        await bao.press(listing, "1. ")
        await bao.wait_until(_shows(listing, f"Phạm vi: Công an {level}"))
    expect(
        "Minh" in listing.body and "📵" in listing.body, "its page names the unreachable officer"
    )
    expect("Minh" in listing.body, "the silent unit's page names its unreachable officer")
