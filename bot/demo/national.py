"""``make demo``, scenes 17–19: the country as it is since 1 July 2025 — 34 provincial police
and 3,321 commune police — and a national directive seen from the top, level by level, and
from one province.

A second act on a database of its own: the committee's roll-up (one line per province, pages,
a province opened and back up), coverage (units nobody has registered in yet), a province
coordinator's own part of the national directive, an officer's /directives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from bot.core.clock import ShiftedClock
from bot.core.config import Config, DatabaseConfig
from bot.emulator import BotApiEmulator, Person
from bot.runner import serve
from bot.services import directives, onboarding
from bot.services import units as unit_service
from bot.services.authz import Actor
from bot.services.directives import Target
from bot.services.members import find_member
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Role

# code, name, kind, communes — ../shared/data/vn-provinces-2025.csv
PROVINCES = """
HNI,Hà Nội,city,126
HPG,Hải Phòng,city,114
HUE,Huế,city,40
DNG,Đà Nẵng,city,94
CTO,Cần Thơ,city,103
HCM,Hồ Chí Minh,city,168
LCU,Lai Châu,province,38
DBN,Điện Biên,province,45
SLA,Sơn La,province,75
LSN,Lạng Sơn,province,65
QNH,Quảng Ninh,province,54
THA,Thanh Hóa,province,166
NAN,Nghệ An,province,130
HTH,Hà Tĩnh,province,69
CBG,Cao Bằng,province,56
TQG,Tuyên Quang,province,124
LCI,Lào Cai,province,99
TNN,Thái Nguyên,province,92
PTO,Phú Thọ,province,148
BNH,Bắc Ninh,province,99
HYN,Hưng Yên,province,104
NBH,Ninh Bình,province,129
QTI,Quảng Trị,province,78
QNI,Quảng Ngãi,province,96
GLI,Gia Lai,province,135
KHA,Khánh Hòa,province,65
LDG,Lâm Đồng,province,124
DLK,Đắk Lắk,province,102
DNI,Đồng Nai,province,95
TNH,Tây Ninh,province,96
VLG,Vĩnh Long,province,124
DTP,Đồng Tháp,province,102
CMU,Cà Mau,province,64
AGG,An Giang,province,102
"""


class Show(Protocol):
    def scene(self, name: str) -> None: ...

    def know(self, person: Person) -> None: ...


Expect = Callable[[bool, str], None]


def tree_csv() -> bytes:
    rows = ["code,name,level,parent_code", "BCA,Bộ Công an — Ban Chỉ đạo,ministry,"]
    for line in PROVINCES.strip().splitlines():
        code, name, kind, communes = line.split(",")
        title = f"Công an {'thành phố' if kind == 'city' else 'tỉnh'} {name}"
        rows.append(f"{code},{title},province,BCA")
        rows += [
            f"{code}-X{n:03},Công an xã số {n} ({name}),commune,{code}"
            for n in range(1, int(communes) + 1)
        ]
    return "\n".join(rows).encode()


async def _prepare(db: Database, clock: ShiftedClock, ttl: timedelta) -> dict[str, str]:
    await upgrade(db.engine)
    system = Actor.system()
    async with db.session() as session:
        await unit_service.import_units(session, clock, system, tree_csv())
        codes = {}
        for name, unit, role in (
            ("committee", "BCA", Role.COORDINATOR),
            ("hanoi", "HNI", Role.COORDINATOR),
            ("commune", "HNI-X001", Role.OFFICER),
        ):
            made = await onboarding.create_invitation(
                session, clock, system, unit, role, uses=1, ttl=ttl, auto_approve=True
            )
            codes[name] = made.code
    return codes


async def _send(db: Database, clock: ShiftedClock, config: Config, chat_id: int) -> int:
    """The committee's directive to every commune (composed as in scene 8)."""
    async with db.session() as session:
        sender = await find_member(session, chat_id)
        assert sender is not None  # noqa: S101 - registered a moment ago
        sent = await directives.send_directive(
            session,
            clock,
            sender.actor,
            text="Đề nghị Công an các xã, phường, đặc khu triển khai Kế hoạch 333/KH-BCĐ "
            "tổ chức Ngày hội toàn dân bảo vệ an ninh Tổ quốc năm 2026.",
            target=Target.parse("level:commune"),
            ack_by=clock.now() + timedelta(hours=24),
            tz=config.tz,
        )
    return sent.directive_id


def _latest(person: Person, message_id: int) -> str:
    return next(m.body for m in person.bot_messages() if m.message_id == message_id)


async def play(
    emu: BotApiEmulator,
    show: Show,
    expect: Expect,
    config: Config,
    clock: ShiftedClock,
    folder: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{folder / 'national.db'}"
    national = replace(config, database=DatabaseConfig(url=url))
    db = Database(url)
    codes = await _prepare(db, clock, config.onboarding.invite_ttl)
    stop, started = asyncio.Event(), asyncio.Event()
    bot = asyncio.create_task(serve(national, stop, clock=clock, started=started))
    try:
        await asyncio.wait_for(started.wait(), 30)
        top = emu.person("Trần Quốc", "Bảo")
        hanoi = emu.person("Lê Thị", "Hoa")
        commune = emu.person("Nguyễn Văn", "Khoa")
        for person, code in ((top, "committee"), (hanoi, "hanoi"), (commune, "commune")):
            show.know(person)
            reply = await person.ask(f"/start {codes[code]}")
            expect("Chào mừng" in reply.body, "the national scene's people are registered")

        show.scene("national_tree")
        directive = await _send(db, clock, national, top.user.id)
        await commune.next_message()
        listing = await top.ask("/directives")
        expect(f"#{directive} [0/3321]" in listing.body, "the committee's list counts 3,321")

        show.scene("national_rollup")
        await top.press(listing, f"#{directive}")
        await top.wait_until(lambda: "trang 1/5" in _latest(top, listing.message_id))
        page = _latest(top, listing.message_id)
        expect("chưa có cán bộ đăng ký" in page, "the roll-up counts units nobody registered in")
        await top.press(listing, "Trang sau")
        await top.wait_until(lambda: "trang 2/5" in _latest(top, listing.message_id))
        await top.press(listing, "9. ")
        await top.wait_until(lambda: "Phạm vi: Công an" in _latest(top, listing.message_id))
        up = next(b["text"] for b in listing.buttons() if b["text"].startswith("⬆️"))
        await top.press(listing, up)
        await top.wait_until(lambda: "trang 1/5" in _latest(top, listing.message_id))

        show.scene("national_province")
        owed = await commune.ask("/directives")
        expect("✅" in str(owed.buttons()), "the officer's /directives carries the ✅ button")
        await commune.press(owed, "✅")
        theirs = await hanoi.ask("/directives")
        expect(f"#{directive} [1/126]" in theirs.body, "Hà Nội sees its own 126 communes")
        await hanoi.press(theirs, f"#{directive}")
        await hanoi.wait_until(lambda: "Theo đơn vị" in _latest(hanoi, theirs.message_id))
    finally:
        stop.set()
        await bot
        await db.dispose()
