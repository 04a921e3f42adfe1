"""Alerts a person can read, at national shape: one overdue task over 3,024 communes reaches
the national committee as a handful of messages, each within one Telegram message, grouped by
province with counts; a wave of blockers reaches it as one alert and a grouped follow-up."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.config import RemindersConfig
from bot.services import directives, plans, reminders, reports
from bot.services.directives import Target
from bot.services.members import MemberView, view_of
from storage.models import (
    Member,
    MemberStatus,
    OutboxMessage,
    OutboxStatus,
    Role,
    TaskAssignment,
    TaskState,
    Unit,
)
from storage.repositories.counts import CountRepository
from tests.factories import make_member, make_tree

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFF = RemindersConfig().quiet_end
CONFIG = RemindersConfig(quiet_start=OFF, quiet_end=OFF)  # the climb, not the night
PROVINCES, DISTRICTS, COMMUNES = 63, 6, 8
LIMIT = 4096


def national_csv() -> str:
    rows = ["code,name,level,parent_code", "BCA,Bộ Công an,ministry,"]
    for p in range(1, PROVINCES + 1):
        rows.append(f"P{p:02},Công an tỉnh số {p:02},province,BCA")
        for d in range(1, DISTRICTS + 1):
            rows.append(f"P{p:02}-D{d},Công an huyện {p:02}-{d},district,P{p:02}")
            for c in range(1, COMMUNES + 1):
                code = f"P{p:02}-D{d}-C{c}"
                rows.append(f"{code},Công an xã {p:02}-{d}-{c},commune,P{p:02}-D{d}")
    return "\n".join(rows) + "\n"


class Nation:
    def __init__(self, session: AsyncSession, clock: ManualClock) -> None:
        self.session, self.clock = session, clock
        self.seen = 0

    async def build(self) -> None:
        s, c = self.session, self.clock
        await make_tree(s, c, national_csv())
        self.committee = await make_member(s, c, "BCA", Role.COORDINATOR, name="BCĐ")
        self.provinces = {
            f"P{p:02}": await make_member(s, c, f"P{p:02}", Role.COORDINATOR, name=f"Tỉnh {p}")
            for p in range(1, PROVINCES + 1, 2)  # half of them
        }
        units = dict((await s.execute(select(Unit.code, Unit.id).where(Unit.depth == 3))).all())
        draw = random.Random(11)
        self.staffed = sorted(code for code in units if draw.random() >= 0.15)
        self.nobody = len(units) - len(self.staffed)
        now = c.now()
        rows = [
            {
                "telegram_user_id": 7_000_000 + i,
                "chat_id": 7_000_000 + i,
                "full_name": f"Cán bộ {code}",
                "username": None,
                "unit_id": units[code],
                "role": Role.OFFICER,
                "status": MemberStatus.ACTIVE,
                "language": "vi",
                "created_at": now,
                "updated_at": now,
            }
            for i, code in enumerate(self.staffed)
        ]
        await s.execute(insert(Member), rows)
        self.plan = await plans.create_plan(
            s, c, self.committee.actor, code="333/KH-BCĐ", title="Ngày hội", event_date=now.date()
        )
        self.deadline = now + timedelta(days=5)
        sent = await plans.create_task(
            s,
            c,
            self.committee.actor,
            self.plan.id,
            title="Rà soát địa điểm tổ chức Ngày hội toàn dân bảo vệ an ninh Tổ quốc",
            description="",
            deadline=self.deadline,
            target=Target.parse("level:commune"),
            tz=TZ,
        )
        self.task_id = sent.task_id
        # Provinces stand differently: from none to 60% of their communes done.
        done = [units[code] for code in units if draw.random() < (int(code[1:3]) % 5) * 0.15]
        await s.execute(
            update(TaskAssignment)
            .where(TaskAssignment.task_id == self.task_id, TaskAssignment.unit_id.in_(done))
            .values(state=TaskState.DONE, progress=100, reported_at=now)
        )
        await CountRepository(s).rebuild()  # written past the services
        self.staffed = [c for c in self.staffed if units[c] not in set(done)]
        await self.new_rows()

    async def officer(self, code: str) -> MemberView:
        member = await self.session.scalar(
            select(Member).where(Member.full_name == f"Cán bộ {code}")
        )
        assert member is not None
        await self.session.refresh(member, ["unit"])
        return view_of(member)

    async def new_rows(self) -> list[OutboxMessage]:
        rows = list(
            await self.session.scalars(
                select(OutboxMessage).where(OutboxMessage.id > self.seen).order_by(OutboxMessage.id)
            )
        )
        if rows:
            self.seen = rows[-1].id
        return rows

    async def sweep(self, when: datetime) -> list[OutboxMessage]:
        self.clock.set(when)
        # Sweeps run every minute; those between the ones here find nothing new (the climb
        # steps at whole hours after the deadline), so each is told the last ran just before.
        last = when - CONFIG.sweep_interval
        await reminders.sweep(self.session, when, CONFIG, TZ, last_run=last)
        return await self.new_rows()

    async def deliver(self) -> None:
        """What the outbox sender would have sent by now (it is not running here)."""
        now = self.clock.now()
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now)
            .values(status=OutboxStatus.SENT, sent_at=OutboxMessage.not_before)
            .execution_options(synchronize_session=False)
        )

    async def block(self, code: str, when: datetime) -> list[OutboxMessage]:
        self.clock.set(when)
        await self.deliver()
        who = await self.officer(code)
        await reports.submit_report(
            self.session,
            self.clock,
            who.actor,
            self.task_id,
            TaskState.BLOCKED,
            25,
            TZ,
            note=f"Thiếu kinh phí ở {code}",
        )
        return await self.new_rows()


@pytest.fixture
async def nation(session: AsyncSession, clock: ManualClock) -> Nation:
    built = Nation(session, clock)
    await built.build()
    return built


def _to(rows: list[OutboxMessage], member: MemberView) -> list[str]:
    return [r.payload["text"] for r in rows if r.member_id == member.id]


async def test_one_overdue_task_at_national_shape_reaches_the_committee_as_a_handful(
    nation: Nation,
) -> None:
    n = nation
    assert n.nobody > 300  # ~15% of 3,024 communes have nobody registered
    # 62 communes of unstaffed provinces report blockers within half an hour of each other,
    # the day before the deadline: they go to the committee (nobody nearer).
    unstaffed = [c for c in n.staffed if int(c[1:3]) % 2 == 0]
    wave = unstaffed[:: max(1, len(unstaffed) // 62)][:62]
    start = n.deadline - timedelta(days=1)
    to_committee: list[OutboxMessage] = []
    for i, code in enumerate(wave):
        rows = await n.block(code, start + timedelta(seconds=29 * i))
        to_committee += [r for r in rows if r.member_id == n.committee.id]
    # 62 blockers over 30 minutes: the first at once, then one message per 10-minute window,
    # each written over while it waits as more come
    at_once = [r for r in to_committee if r.not_before == r.created_at]
    assert len(at_once) == 1
    follow_ups = [r for r in to_committee if r.ref == f"blockers:m{n.committee.id}"]
    assert len(follow_ups) == len(to_committee) - 1 == 3
    assert [r.not_before - start for r in follow_ups] == [
        timedelta(minutes=m) for m in (10, 20, 30)
    ]
    texts = [r.payload["text"] for r in to_committee]
    assert "⛔ ĐƠN VỊ GẶP KHÓ KHĂN —" in texts[1]
    assert "mục mới trong 10 phút qua" in texts[1]
    assert sum(text.count("\n• Công an xã") for text in texts[1:]) == 61  # all the others
    assert all(len(text) <= LIMIT for text in texts)
    texts_then = texts
    assert "(không có ghi chú)" not in "".join(texts)
    blocker_messages = len(to_committee)

    # The climb: sweeps every hour from the deadline until nothing is left to tell.
    per_sweep: list[int] = []
    escalations: list[str] = []
    longest = 0
    when = n.deadline
    while when <= n.deadline + timedelta(days=4):
        rows = await n.sweep(when)
        texts = _to(rows, n.committee)
        per_sweep.append(len(texts))
        escalations += [x for x in texts if "ĐƠN VỊ CHẬM TIẾN ĐỘ" in x]
        longest = max([longest, *(len(r.payload.get("text", "")) for r in rows)])
        when += timedelta(hours=1)
    assert max(per_sweep) <= 1
    assert 1 <= len(escalations) <= 3, len(escalations)
    assert longest <= LIMIT
    first = escalations[0]
    lines = [line for line in first.splitlines() if line.startswith("• ")]
    assert lines[0].startswith("• Công an tỉnh số ")  # grouped by province, not 1,512 communes
    assert "đơn vị chưa hoàn thành" in lines[0]
    assert "chưa có cán bộ đăng ký" in first
    assert "gặp khó khăn" in first
    counts = [int(line.split(": ")[1].split(" ")[0]) for line in lines]
    assert counts == sorted(counts, reverse=True)  # the worst first
    total = blocker_messages + len(escalations)
    longest_to_committee = max(len(x) for x in [*texts_then, *escalations])
    print(  # the figures of the report
        f"committee: {blocker_messages} blocker messages, {len(escalations)} escalations, "
        f"longest {longest_to_committee} characters"
    )
    assert total <= 6
    # and a province coordinator hears of its own communes grouped by district
    province = next(iter(n.provinces.values()))
    got = Counter(
        r.member_id
        for r in await n.session.scalars(
            select(OutboxMessage).where(OutboxMessage.member_id == province.id)
        )
    )
    assert got[province.id] <= 2


async def test_a_directive_escalation_counts_units_by_child_and_has_a_roll_up_button(
    nation: Nation,
) -> None:
    n = nation
    sent = await directives.send_directive(
        n.session,
        n.clock,
        n.committee.actor,
        text="Báo cáo danh sách lực lượng tham gia",
        target=Target.parse("level:commune"),
        ack_by=n.clock.now() + timedelta(hours=4),
        urgent=False,
        tz=TZ,
    )
    await n.new_rows()
    rows = await n.sweep(n.clock.now() + timedelta(hours=4) + CONFIG.escalate_after)
    mine = [r for r in rows if r.member_id == n.committee.id]
    assert len(mine) == 1
    text = mine[0].payload["text"]
    assert "ĐƠN VỊ CHƯA XÁC NHẬN" in text
    assert "đơn vị chưa xác nhận" in text.splitlines()[2]
    assert len(text) <= LIMIT
    buttons = [
        b["callback_data"]
        for row in mine[0].payload["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert buttons == [f"dv:{sent.directive_id}"]
