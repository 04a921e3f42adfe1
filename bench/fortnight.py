"""Two weeks of Plan 333/KH-BCĐ as the people in it live them, measured from the outbox.

A ministry, 2 provinces, 3 districts, 8 communes (one with nobody registered), 13 officers and
5 coordinators; 8 tasks (4 due on a day, i.e. 23:59, and 4 at 17:00), 4 directives (one Hỏa
tốc, one written at 22:00), reports on time, late, blocked and never, one sent back at 22:50,
a 🔔 pressed at 21:40; Hoàn Kiếm paused for 3 days; the bot down for 48 hours in the middle.
People act through the services as the handlers call them (quiet hours passed where the
handlers pass them). Every 5 simulated minutes each job of ``bot.scheduler.Scheduler`` runs
in its own transaction, then a stand-in for the sender marks what has come due as sent (so
edits and withdrawals later see what people already hold).

A message is an outbox row that puts something new on a phone (``send*``, not cancelled); it
reaches its member at ``not_before``, or when the bot comes back if that fell in the outage.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.config import Config, RemindersConfig
from bot.scheduler import Scheduler
from bot.services import directives, pauses, plans, reports
from bot.services.authz import Actor
from bot.services.confirmations import Tap, confirm_taps
from bot.services.directives import Target
from bot.services.members import MemberView, view_of
from bot.services.notify import Priority
from bot.services.quiet import QuietHours
from bot.services.units import import_units
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Member, MemberStatus, OutboxMessage, OutboxStatus, Role, TaskState, Unit
from storage.repositories.outbox import OutboxRepository

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STEP = timedelta(minutes=5)
# The defaults, told the truth about the cadence: a sweep every 5 minutes.
CONFIG = replace(RemindersConfig(), sweep_interval=STEP)
QUIET = QuietHours.within(CONFIG, TZ)
YEAR = 2026
DAYS = 14


def at(text: str) -> datetime:
    """``05/08 10:12``: local time in the plan's year, as UTC."""
    day, month, hour, minute = (
        int(part) for part in text.replace(":", "/").replace(" ", "/").split("/")
    )
    return datetime(YEAR, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


START = at("03/08 08:00")  # a Monday
END = START + timedelta(days=DAYS)
OUTAGE = (at("09/08 14:00"), at("11/08 14:00"))  # no sweeps, no sender, nobody's updates
EVENT = date(YEAR, 8, 19)  # the Ngày hội

UNITS = """code,name,level,parent_code
BCA,Bộ Công an — Ban Chỉ đạo,ministry,
HNI,Công an TP Hà Nội,province,BCA
HNI-HK,Công an quận Hoàn Kiếm,district,HNI
HNI-HK-HG,Công an phường Hàng Gai,commune,HNI-HK
HNI-HK-HT,Công an phường Hàng Trống,commune,HNI-HK
HNI-HK-LTT,Công an phường Lý Thái Tổ,commune,HNI-HK
HNI-BD,Công an quận Ba Đình,district,HNI
HNI-BD-PX,Công an phường Phúc Xá,commune,HNI-BD
HNI-BD-TB,Công an phường Trúc Bạch,commune,HNI-BD
HNI-BD-LG,Công an phường Liễu Giai,commune,HNI-BD
QNI,Công an tỉnh Quảng Ninh,province,BCA
QNI-HL,Công an TP Hạ Long,district,QNI
QNI-HL-BC,Công an phường Bãi Cháy,commune,QNI-HL
QNI-HL-HG,Công an phường Hồng Gai,commune,QNI-HL
"""
OFFICERS = {"HNI-HK-HG": 2, "HNI-HK-HT": 2, "HNI-HK-LTT": 2, "HNI-BD-PX": 2}
OFFICERS |= {"HNI-BD-TB": 2, "HNI-BD-LG": 2, "QNI-HL-BC": 1}
COORDINATORS = ("BCA", "HNI", "QNI", "HNI-HK", "HNI-BD")  # nobody at Hạ Long
NOBODY = "QNI-HL-HG"
PAUSED, PAUSED_BY, PAUSED_AT = "HNI-HK", "HNI", at("05/08 10:00")  # "3d": the storm
BLOCKED = ("HNI-BD-TB", "T3")

# Each to every commune under its author. A deadline given as a day means 23:59.
TASKS = """
T1 03/08 09:00 BCA 2026-08-05       Báo cáo danh sách địa điểm tổ chức Ngày hội
T2 03/08 09:10 BCA 2026-08-06T17:00 Rà soát lực lượng, phương tiện tham gia bảo vệ
T3 03/08 09:20 BCA 2026-08-08       Phương án bảo đảm an ninh, trật tự tại điểm tổ chức
T4 04/08 10:00 HNI 2026-08-12T17:00 Kiểm tra công tác tuyên truyền ở khu dân cư
T5 04/08 14:00 BCA 2026-08-09T17:00 Đăng ký mô hình điển hình, cách làm hay
T6 05/08 08:30 BCA 2026-08-10       Báo cáo tiến độ chuẩn bị lần 1
T7 05/08 09:00 BCA 2026-08-14       Tổ chức diễn tập phương án bảo vệ
T8 11/08 15:00 BCA 2026-08-15T17:00 Báo cáo kết quả chuẩn bị cuối cùng
"""
# key, written, author, to confirm by, urgency, text
DIRECTIVES = """
D1 03/08 10:00 BCA    04/08 17:00 normal Quán triệt Kế hoạch 333/KH-BCĐ tới toàn thể cán bộ.
D2 08/08 15:00 BCA    08/08 18:00 urgent Hỏa tốc: báo cáo ngay thiệt hại do bão tại điểm.
D3 12/08 22:00 HNI    14/08 12:00 normal Bổ sung danh sách khách mời tại điểm cầu Hà Nội.
D4 13/08 09:00 HNI-BD 14/08 17:00 normal Bố trí lực lượng trực tại điểm Ngày hội của quận.
"""
# unit: task when [state [progress [note]]] (done unless said); Lý Thái Tổ never reports
REPORTS = """
HNI-BD-PX T1 04/08 10:12; T2 05/08 16:05; T3 07/08 11:00; T5 09/08 10:00; T6 09/08 11:30
HNI-BD-PX T4 11/08 16:00; T3 12/08 09:30; T7 13/08 15:00; T8 14/08 10:00
HNI-BD-TB T1 05/08 09:40; T2 06/08 11:00 in_progress 60; T2 06/08 16:20; T5 09/08 09:00
HNI-BD-TB T3 06/08 15:20 blocked 30 Chưa có kinh phí thuê rào chắn
HNI-BD-TB T6 11/08 16:30; T4 12/08 10:00; T7 14/08 16:00; T8 15/08 11:00
HNI-BD-LG T1 07/08 09:15; T2 08/08 08:30; T3 08/08 20:40; T5 11/08 15:30; T6 12/08 08:10
HNI-BD-LG T4 12/08 16:50; T7 14/08 21:10; T8 16/08 09:00
HNI-HK-HG T1 08/08 15:00; T2 08/08 15:05; T3 08/08 17:30; T5 09/08 08:45; T4 12/08 11:00
HNI-HK-HG T6 12/08 14:00; T7 14/08 10:30; T8 15/08 16:30
HNI-HK-HT T1 04/08 16:00 in_progress 50; T1 05/08 17:10; T2 06/08 14:30
HNI-HK-HT T3 08/08 11:20 in_progress 80; T3 09/08 09:10; T5 09/08 13:50; T6 11/08 17:00
HNI-HK-HT T4 12/08 15:40; T7 13/08 10:00; T8 15/08 09:20
QNI-HL-BC T1 05/08 21:05; T2 06/08 18:30; T5 09/08 06:50 in_progress 40; T3 11/08 19:00
QNI-HL-BC T6 11/08 20:30; T5 12/08 07:40; T7 14/08 22:10; T8 16/08 10:00
"""
# directive: unit when (the first officer taps ✅); Lý Thái Tổ never confirms
CONFIRMS = """
D1 HNI-BD-PX 03/08 10:05; HNI-BD-TB 03/08 10:40; HNI-HK-HG 03/08 11:00; HNI-BD-LG 03/08 15:30
D1 HNI-HK-HT 04/08 08:10; QNI-HL-BC 04/08 20:15
D2 HNI-BD-PX 08/08 15:02; HNI-BD-TB 08/08 15:04; HNI-BD-LG 08/08 15:10; HNI-HK-HG 08/08 15:20
D2 HNI-HK-HT 08/08 16:45; QNI-HL-BC 08/08 17:40
D3 HNI-BD-PX 13/08 07:05; HNI-HK-HG 13/08 08:00; HNI-BD-TB 13/08 09:30; HNI-BD-LG 13/08 11:00
D3 HNI-HK-HT 13/08 14:00
D4 HNI-BD-PX 13/08 09:15; HNI-BD-LG 14/08 08:00
"""
SENT_BACK = ("08/08 22:50", "HNI-BD", "HNI-BD-PX", "T3", "Phương án thiếu sơ đồ bố trí lực lượng.")
REMINDED = ("13/08 21:40", "HNI-BD", "D4")  # 🔔 on the directive Trúc Bạch has not confirmed


class Report(NamedTuple):
    at: datetime
    unit: str
    task: str
    state: TaskState
    progress: int | None
    note: str


def _table(text: str) -> list[list[str]]:
    """The entries of a table above: ``;`` separates them, a line starts with their subject."""
    rows = []
    for line in text.strip().splitlines():
        subject, rest = line.split(maxsplit=1)
        rows += [[subject, *entry.split()] for entry in rest.split(";")]
    return rows


def planned_reports() -> list[Report]:
    found = []
    for unit, task, day, hm, *more in _table(REPORTS):
        state = TaskState(more[0]) if more else TaskState.DONE
        progress = int(more[1]) if len(more) > 1 else None
        found.append(Report(at(f"{day} {hm}"), unit, task, state, progress, " ".join(more[2:])))
    return found


@dataclass
class Lived:
    """Who and what the fortnight was about, by the scenario's names."""

    people: dict[str, list[MemberView]] = field(default_factory=dict)  # by unit code
    tasks: dict[str, int] = field(default_factory=dict)
    deadlines: dict[str, datetime] = field(default_factory=dict)
    directives: dict[str, int] = field(default_factory=dict)
    pause_until: datetime = START
    sweeps: int = 0
    seconds: float = 0.0

    def coordinator(self, code: str) -> MemberView:
        return self.people[code][0]


@dataclass(frozen=True)
class Delivery:
    member_id: int
    role: Role
    unit_code: str
    at: datetime  # when it reaches the phone
    created_at: datetime
    priority: int
    text: str


@dataclass(frozen=True)
class Figures:
    days: int
    sweeps: int
    officers: int
    coordinators: int
    messages: int
    officer_mean_per_day: float
    officer_max_per_day: int
    coordinator_mean_per_day: float
    coordinator_max_per_day: int
    max_in_a_minute: int  # one person, any minute
    max_in_a_minute_at_0630: int
    max_in_first_minute_after_outage: int
    quiet_not_urgent: int  # delivered in quiet hours, less urgent than Priority.URGENT
    same_text_twice_in_a_day: int  # repeats beyond the first, per person and local day
    share_at_0630: float
    seconds: float

    def row(self) -> str:
        return (
            f"officer/day {self.officer_mean_per_day:.1f} (max {self.officer_max_per_day}) · "
            f"coordinator/day {self.coordinator_mean_per_day:.1f} "
            f"(max {self.coordinator_max_per_day}) · per minute max {self.max_in_a_minute}, "
            f"06:30 {self.max_in_a_minute_at_0630}, after outage "
            f"{self.max_in_first_minute_after_outage} · quiet non-urgent {self.quiet_not_urgent}"
            f" · same text twice {self.same_text_twice_in_a_day} · at 06:30 "
            f"{self.share_at_0630:.0%} of {self.messages} · {self.sweeps} sweeps "
            f"{self.seconds:.1f}s"
        )


Action = Callable[[AsyncSession, ManualClock, Lived], Awaitable[object]]


def _task(key: str, by: str, deadline: str, title: str) -> Action:
    async def act(session: AsyncSession, clock: ManualClock, lived: Lived) -> None:
        when = plans.parse_deadline(deadline, EVENT, clock.now(), TZ)
        assert when is not None, deadline
        sent = await plans.create_task(
            session,
            clock,
            lived.coordinator(by).actor,
            lived.tasks["plan"],
            title=title,
            description="",
            deadline=when,
            target=Target.parse("level:commune"),
            tz=TZ,
            quiet=QUIET,
        )
        lived.tasks[key], lived.deadlines[key] = sent.task_id, when

    return act


def _directive(key: str, by: str, ack_by: str, urgency: str, text: str) -> Action:
    async def act(session: AsyncSession, clock: ManualClock, lived: Lived) -> None:
        sent = await directives.send_directive(
            session,
            clock,
            lived.coordinator(by).actor,
            text=text,
            target=Target.parse("level:commune"),
            ack_by=at(ack_by),
            urgent=urgency == "urgent",
            tz=TZ,
            quiet=QUIET,
        )
        lived.directives[key] = sent.directive_id

    return act


def _report(r: Report) -> Action:
    def act(session: AsyncSession, clock: ManualClock, lived: Lived) -> Awaitable[object]:
        actor, task_id = lived.people[r.unit][0].actor, lived.tasks[r.task]
        return reports.submit_report(
            session, clock, actor, task_id, r.state, r.progress, TZ, note=r.note, quiet=QUIET
        )

    return act


def _confirm(unit: str, key: str) -> Action:
    def act(session: AsyncSession, clock: ManualClock, lived: Lived) -> Awaitable[object]:
        tap = Tap(lived.people[unit][0].telegram_user_id, lived.directives[key], 1)
        return confirm_taps(session, clock, [tap], TZ)

    return act


async def _pause(session: AsyncSession, clock: ManualClock, lived: Lived) -> None:
    actor = lived.coordinator(PAUSED_BY).actor
    made = await pauses.pause(session, clock, actor, PAUSED, "3d", "Bão số 3, ngập úng", TZ)
    lived.pause_until = made.until


async def _send_back(session: AsyncSession, clock: ManualClock, lived: Lived) -> None:
    _, by, unit, task, comment = SENT_BACK
    unit_id = (await session.scalars(select(Unit.id).where(Unit.code == unit))).one()
    actor = lived.coordinator(by).actor
    task_id = lived.tasks[task]
    await reports.return_report(session, clock, actor, task_id, unit_id, comment, TZ, QUIET)


def _remind(session: AsyncSession, clock: ManualClock, lived: Lived) -> Awaitable[object]:
    _, by, key = REMINDED
    actor = lived.coordinator(by).actor
    return directives.remind_pending(session, clock, actor, lived.directives[key], TZ, QUIET)


def scenario() -> list[tuple[datetime, Action]]:
    """Everything people do over the fortnight, in order (nothing while the bot is down)."""
    steps: list[tuple[datetime, Action]] = []
    for line in TASKS.strip().splitlines():
        key, day, hm, by, deadline, title = line.split(maxsplit=5)
        steps.append((at(f"{day} {hm}"), _task(key, by, deadline, title)))
    for line in DIRECTIVES.strip().splitlines():
        key, day, hm, by, ack_day, ack_hm, urgency, text = line.split(maxsplit=7)
        steps.append((at(f"{day} {hm}"), _directive(key, by, f"{ack_day} {ack_hm}", urgency, text)))
    steps += [(r.at, _report(r)) for r in planned_reports()]
    steps += [(at(f"{d} {hm}"), _confirm(unit, key)) for key, unit, d, hm in _table(CONFIRMS)]
    steps += [(PAUSED_AT, _pause), (at(SENT_BACK[0]), _send_back), (at(REMINDED[0]), _remind)]
    assert not [when for when, _ in steps if OUTAGE[0] <= when < OUTAGE[1]]
    return sorted(steps, key=lambda step: step[0])


def late_units() -> dict[str, set[str]]:
    """By task, the units (with officers, not blocked) done over a day late, or never."""
    done = {(r.unit, r.task): r.at for r in planned_reports() if r.state is TaskState.DONE}
    blocked = {(r.unit, r.task) for r in planned_reports() if r.state is TaskState.BLOCKED}
    late: dict[str, set[str]] = {}
    for line in TASKS.strip().splitlines():
        key, _, _, by, deadline, _ = line.split(maxsplit=5)
        due = plans.parse_deadline(deadline, EVENT, START, TZ)
        assert due is not None
        for unit in OFFICERS:
            if (by != "BCA" and not unit.startswith(f"{by}-")) or (unit, key) in blocked:
                continue
            if (unit, key) not in done or done[unit, key] > due + timedelta(days=1):
                late.setdefault(key, set()).add(unit)
    return late


async def _people(session: AsyncSession, lived: Lived) -> None:
    await import_units(session, ManualClock(START), Actor.system(), UNITS.encode())
    units = {u.code: u for u in await session.scalars(select(Unit))}
    roster = [(code, Role.COORDINATOR) for code in COORDINATORS]
    roster += [(code, Role.OFFICER) for code, count in OFFICERS.items() for _ in range(count)]
    for number, (code, role) in enumerate(roster, start=1):
        member = Member(
            telegram_user_id=7_000_000 + number,
            chat_id=7_000_000 + number,
            full_name=f"{'Chỉ huy' if role is Role.COORDINATOR else 'Cán bộ'} {number}",
            unit_id=units[code].id,
            role=role,
            status=MemberStatus.ACTIVE,
            language="vi",
            created_at=START,
            updated_at=START,
        )
        session.add(member)
        await session.flush()
        await session.refresh(member, ["unit"])
        lived.people.setdefault(code, []).append(view_of(member))


async def live(db: Database) -> Lived:
    """Build the tree and play the fortnight on ``db`` (migrated here)."""
    await upgrade(db.engine)
    lived = Lived()
    clock = ManualClock(START)
    async with db.session() as session:
        await _people(session, lived)
        plan = await plans.create_plan(
            session,
            clock,
            lived.coordinator("BCA").actor,
            code="333/KH-BCĐ",
            title="Tổ chức Ngày hội toàn dân bảo vệ an ninh Tổ quốc năm 2026",
            event_date=EVENT,
        )
        lived.tasks["plan"] = plan.id
    jobs = Scheduler(db, clock, replace(Config(), reminders=CONFIG), lambda: None).jobs
    steps = scenario()
    started = time.perf_counter()
    now = START
    due: datetime | None = START  # the sender's next wake-up for a held message
    while now <= END:
        wrote = False
        while steps and steps[0][0] <= now:
            when, act = steps.pop(0)
            clock.set(when)
            async with db.session() as session:
                await act(session, clock, lived)
            wrote = True
        if not OUTAGE[0] <= now < OUTAGE[1]:
            clock.set(now)
            for job in jobs.values():  # as Scheduler.run does, but a failure stops the run
                async with db.session() as session:
                    wrote = bool(await job.body(session, now)) or wrote  # run() wakes on this
            lived.sweeps += 1
            if wrote or (due is not None and due <= now):
                due = await _deliver(db, now)
        now += STEP
    lived.seconds = time.perf_counter() - started
    return lived


async def _deliver(db: Database, now: datetime) -> datetime | None:
    """The sender, done in an instant: what has come due is on people's phones. Returns when
    the next held message comes due."""
    async with db.session() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now)
            .values(status=OutboxStatus.SENT, sent_at=now, telegram_message_id=OutboxMessage.id)
        )
        return await OutboxRepository(session).next_due_at()


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _reached(moment: datetime) -> datetime:
    """When a message allowed out at ``moment`` reaches its member: at once, or when the bot
    comes back if it was down then."""
    moment = _utc(moment)
    return OUTAGE[1] if OUTAGE[0] <= moment < OUTAGE[1] else moment


async def deliveries(db: Database) -> list[Delivery]:
    """Every message that reached a member, in order of arrival."""
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxMessage, Member.role, Unit.code)
            .join(Member, Member.id == OutboxMessage.member_id)
            .join(Unit, Unit.id == Member.unit_id)
            .where(
                OutboxMessage.method.startswith("send"),
                OutboxMessage.status != OutboxStatus.CANCELLED,
            )
        )
        found = [
            Delivery(
                row.member_id or 0,
                Role(role),
                code,
                _reached(row.not_before),
                _utc(row.created_at),
                row.priority,
                str(row.payload.get("text") or row.payload.get("caption") or ""),
            )
            for row, role, code in rows
        ]
    return sorted(found, key=lambda d: (d.at, d.member_id))


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _is_0630(moment: datetime) -> bool:
    local_moment = moment.astimezone(TZ)
    return (local_moment.hour, local_moment.minute) == (QUIET.end.hour, QUIET.end.minute)


def measure(lived: Lived, found: list[Delivery]) -> Figures:
    local_day = lambda d: d.at.astimezone(TZ).date()  # noqa: E731
    at_0630 = lambda d: _is_0630(d.at)  # noqa: E731
    per_day = Counter((d.member_id, local_day(d)) for d in found)
    per_minute = Counter((d.member_id, _minute(d.at)) for d in found)
    per_text = Counter((d.member_id, local_day(d), d.text) for d in found if d.text)
    head_count = {
        role: sum(1 for p in lived.people.values() for m in p if m.role is role) for role in Role
    }
    roles = {m.id: m.role for p in lived.people.values() for m in p}

    def daily(role: Role) -> tuple[float, int]:
        counts = [n for (member, _), n in per_day.items() if roles[member] is role]
        total = sum(counts)
        return total / (head_count[role] * DAYS), max(counts, default=0)

    def worst(keep: Callable[[datetime], bool]) -> int:
        return max((n for (_, minute), n in per_minute.items() if keep(minute)), default=0)

    officer, coordinator = daily(Role.OFFICER), daily(Role.COORDINATOR)
    return Figures(
        days=DAYS,
        sweeps=lived.sweeps,
        officers=head_count[Role.OFFICER],
        coordinators=head_count[Role.COORDINATOR],
        messages=len(found),
        officer_mean_per_day=round(officer[0], 2),
        officer_max_per_day=officer[1],
        coordinator_mean_per_day=round(coordinator[0], 2),
        coordinator_max_per_day=coordinator[1],
        max_in_a_minute=worst(lambda minute: True),
        max_in_a_minute_at_0630=worst(_is_0630),
        max_in_first_minute_after_outage=worst(lambda minute: minute == OUTAGE[1]),
        quiet_not_urgent=sum(
            1 for d in found if d.priority > Priority.URGENT and QUIET.active(d.at)
        ),
        same_text_twice_in_a_day=sum(n - 1 for n in per_text.values()),
        share_at_0630=round(fmean(at_0630(d) for d in found), 3) if found else 0.0,
        seconds=round(lived.seconds, 1),
    )


async def fortnight(url: str) -> Figures:
    """``make bench``: the fortnight on a fresh database at ``url``."""
    db = Database(url)
    try:
        lived = await live(db)
        return measure(lived, await deliveries(db))
    finally:
        await db.dispose()
