"""What a coordinator's own action sends to others waits for the morning like everything else
in quiet hours (urgent directives aside); a task due before the morning goes at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.services import directives, initiatives
from bot.services.directives import Target
from bot.services.quiet import QuietHours
from storage.models import OutboxMessage
from tests.bot.test_reminders import CONFIG, TZ, World

QUIET = QuietHours(CONFIG.quiet_start, CONFIG.quiet_end, TZ)
NIGHT = datetime(2026, 7, 1, 23, 10, tzinfo=TZ)
MORNING = datetime(2026, 7, 2, 6, 30, tzinfo=TZ)


async def _rows(session: AsyncSession, after: int) -> list[OutboxMessage]:
    found = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.id > after).order_by(OutboxMessage.id)
    )
    return list(found)


async def test_reminding_a_directive_at_night_waits_unless_urgent(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    await w.build()
    clock.set(NIGHT - timedelta(hours=12))
    sent = {}
    for urgent in (False, True):
        sent[urgent] = await directives.send_directive(
            session,
            clock,
            w.district.actor,
            text="Khẩn" if urgent else "Thường",
            target=Target.parse("list:HN-BD-TB"),
            ack_by=NIGHT + timedelta(days=2),
            urgent=urgent,
            tz=TZ,
        )
    await w.inbox.new()
    clock.set(NIGHT)
    for urgent in (False, True):
        count = await directives.remind_pending(
            session, clock, w.district.actor, sent[urgent].directive_id, TZ, QUIET
        )
        assert count == 1
    rows = await w.inbox.new()
    assert [r.not_before for r in rows] == [MORNING, NIGHT]


async def test_featuring_a_good_model_at_night_reaches_people_in_the_morning(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    await w.build()
    clock.set(NIGHT)
    made = await initiatives.submit(session, clock, w.tb.actor, "Mô hình camera an ninh", ["p1"])
    seen = w.inbox.seen
    await w.inbox.new()
    done = await initiatives.feature(session, clock, w.province.actor, made.initiative_id, QUIET)
    rows = await _rows(session, max(seen, w.inbox.seen))
    assert done.members >= 4
    assert rows
    assert {r.not_before for r in rows} == {MORNING}


async def test_a_task_due_before_the_morning_goes_at_once_and_says_so(
    session: AsyncSession, clock: ManualClock
) -> None:
    from bot.services import plans

    w = World(session, clock)
    await w.build()
    clock.set(NIGHT)
    outcomes = {}
    for hours in (5, 12):  # due 04:10 (before 06:30) and 11:10
        outcomes[hours] = await plans.create_task(
            session,
            clock,
            w.committee.actor,
            w.plan.id,
            title=f"Hạn sau {hours} giờ",
            description="",
            deadline=NIGHT + timedelta(hours=hours),
            target=Target.parse("list:HN-BD-TB"),
            tz=TZ,
            quiet=QUIET,
        )
        rows = await w.inbox.new()
        assert {r.not_before for r in rows} == {NIGHT if hours == 5 else MORNING}
    assert (outcomes[5].before_morning, outcomes[5].held_until) == (True, None)
    assert (outcomes[12].before_morning, outcomes[12].held_until) == (False, MORNING)


async def test_closing_a_task_withdraws_what_waits_for_the_morning(
    session: AsyncSession, clock: ManualClock
) -> None:
    from bot.services import plans, reports
    from storage.models import OutboxStatus

    w = World(session, clock)
    await w.build()
    clock.set(NIGHT)
    sent = await plans.create_task(
        session,
        clock,
        w.committee.actor,
        w.plan.id,
        title="Giao lúc đêm",
        description="",
        deadline=NIGHT + timedelta(days=3),
        target=Target.parse("level:commune"),
        tz=TZ,
        quiet=QUIET,
    )
    held = await w.inbox.new()
    assert held
    assert {r.not_before for r in held} == {MORNING}
    await reports.close_task(session, clock, w.committee.actor, sent.task_id)
    for row in held:
        await session.refresh(row)
    assert {r.status for r in held} == {OutboxStatus.CANCELLED}
    earlier = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.ref.startswith(f"task:{w.task_id}:u"))
    )
    assert {r.status for r in earlier} == {OutboxStatus.PENDING}  # another task's: untouched


async def test_the_morning_sweep_comes_a_minute_after_what_the_night_held(
    session: AsyncSession, clock: ManualClock
) -> None:
    from storage.models import OutboxStatus

    w = World(session, clock)
    clock.set(NIGHT - timedelta(days=2))
    await w.build(deadline=NIGHT - timedelta(hours=1))  # overdue by the morning
    clock.set(NIGHT)
    await directives.send_directive(
        session,
        clock,
        w.district.actor,
        text="Bố trí lực lượng trực",
        target=Target.parse("list:HN-BD-TB,HN-BD-PX"),
        ack_by=NIGHT + timedelta(days=2),
        urgent=False,
        tz=TZ,
        quiet=QUIET,
    )
    held = await w.inbox.new()
    assert {r.not_before for r in held} == {MORNING}
    px_copy = next(r for r in held if r.member_id == w.px[0].id)
    px_copy.status, px_copy.sent_at = OutboxStatus.SENT, MORNING  # already on PX1's phone
    await session.flush()
    await w.sweep_at(MORNING)
    swept = {r.member_id: r.not_before for r in await w.inbox.new()}
    minute_later = MORNING + timedelta(minutes=1)
    assert swept[w.tb.id] == minute_later  # the held directive is still waiting to go
    assert swept[w.px[0].id] == minute_later  # it went a moment ago
    assert swept[w.bc.id] == MORNING  # nothing held for Bãi Cháy: at once
