"""Directive rules called directly: targets, sending, batched confirmation, amendment, reminder."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.services import directive_views, directives
from bot.services.authz import Actor, NotAllowed
from bot.services.confirmations import Tap, confirm_taps
from bot.services.directives import Confirmed, DirectiveError, Target, changes
from bot.services.rollups import Rollups
from bot.services.units import import_units
from storage.models import (
    DirectiveConfirmation,
    DirectiveTarget,
    MemberStatus,
    OutboxMessage,
    Role,
)
from storage.repositories.counts import CountRepository
from tests.factories import make_member, make_tree

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def _send(session, clock, actor, target="subtree", **kw):
    return await directives.send_directive(
        session,
        clock,
        actor,
        text=kw.pop("text", "Chuẩn bị Ngày hội."),
        target=Target.parse(target),
        ack_by=clock.now() + timedelta(hours=24),
        urgent=kw.pop("urgent", False),
        tz=TZ,
        **kw,
    )


async def _rows(session, method="sendMessage"):
    stmt = select(OutboxMessage).where(OutboxMessage.method == method).order_by(OutboxMessage.id)
    return list(await session.scalars(stmt))


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("subtree", "subtree", ""),
        ("level:commune", "level", "commune"),
        ("list:A, B", "list", "A, B"),
        ("group:5 địa phương", "group", "5 địa phương"),
    ],
)
def test_target_syntax(text, kind, value) -> None:
    target = Target.parse(text)
    assert (target.kind, target.value) == (kind, value)


@pytest.mark.parametrize("text", ["everyone", "level:", "group", ""])
def test_bad_target_syntax(text) -> None:
    with pytest.raises(DirectiveError):
        Target.parse(text)


def test_changes_lists_removed_and_added_lines() -> None:
    assert changes("Họp 8 giờ\nTại hội trường", "Họp 9 giờ\nTại hội trường") == (
        "− Họp 8 giờ\n+ Họp 9 giờ"
    )


async def test_send_reaches_every_active_member_of_the_targets(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    a1 = await make_member(session, clock, "HN-BD-PX")
    await make_member(session, clock, "HN-BD-PX", language="en")
    await make_member(session, clock, "HN-BD-TB", status=MemberStatus.PENDING)
    await make_member(session, clock, "QN-HL-BC")
    sent = await _send(session, clock, boss.actor, "level:commune", urgent=True)
    assert (sent.unit_count, sent.member_count) == (2, 2)
    rows = await _rows(session)
    assert len(rows) == 2
    assert rows[0].member_id == a1.id
    assert rows[0].payload["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == (
        f"dc:{sent.directive_id}:1"
    )
    assert "CHỈ ĐẠO HỎA TỐC" in rows[0].payload["text"]
    assert "FLASH DIRECTIVE" in rows[1].payload["text"]


async def test_targets_stay_inside_the_subtree(session, clock) -> None:
    await make_tree(session, clock)
    district = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
    with pytest.raises(DirectiveError) as caught:
        await _send(session, clock, district.actor, "list:HN-BD-PX,QN-HL-BC")
    assert caught.value.key == "directive.outside_scope"
    with pytest.raises(DirectiveError) as unknown:
        await _send(session, clock, district.actor, "list:NOPE")
    assert unknown.value.key == "directive.unknown_units"
    await directives.save_group(session, clock, Actor.system(), "Điểm", ["QN-HL-BC"])
    with pytest.raises(DirectiveError):
        await _send(session, clock, district.actor, "group:Điểm")
    officer = await make_member(session, clock, "HN-BD-PX")
    with pytest.raises(NotAllowed):
        await _send(session, clock, officer.actor)


async def test_bad_text_and_deadline(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    for text, key in (("  ", "directive.empty_text"), ("x" * 3501, "directive.too_long")):
        with pytest.raises(DirectiveError) as caught:
            await _send(session, clock, boss.actor, text=text)
        assert caught.value.key == key
    with pytest.raises(DirectiveError) as past:
        await directives.send_directive(
            session,
            clock,
            boss.actor,
            text="ok",
            target=Target.parse("subtree"),
            ack_by=clock.now() - timedelta(minutes=1),
            urgent=False,
            tz=TZ,
        )
    assert past.value.key == "directive.deadline_past"


async def test_batched_taps_first_confirms_rest_are_told(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    first = await make_member(session, clock, "HN-BD-PX", name="Một")
    second = await make_member(session, clock, "HN-BD-PX", name="Hai")
    outsider = await make_member(session, clock, "QN-HL-BC")
    observer = await make_member(session, clock, "HN", Role.OBSERVER)
    sent = await _send(session, clock, boss.actor, "level:commune")
    d = sent.directive_id
    taps = [
        Tap(first.telegram_user_id, d, 1),
        Tap(second.telegram_user_id, d, 1),
        Tap(outsider.telegram_user_id, d, 1),
        Tap(observer.telegram_user_id, d, 1),
        Tap(999, d, 1),
        Tap(first.telegram_user_id, d, 2),
        Tap(first.telegram_user_id, 77, 1),
    ]
    results = await confirm_taps(session, clock, taps, TZ)
    outcomes = [r.result.outcome if r.result else r.refusal for r in results]
    assert outcomes == [
        Confirmed.CONFIRMED,
        Confirmed.ALREADY,
        Confirmed.NOT_TARGET,
        "authz.role_denied",
        "errors.not_registered",
        Confirmed.STALE,
        Confirmed.NOT_FOUND,
    ]
    assert results[1].result.by == "Một"
    history = list(await session.scalars(select(DirectiveConfirmation)))
    assert [(h.member_id, h.late) for h in history] == [(first.id, False)]
    status = await directive_views.status(session, boss.actor, d)
    assert (status.confirmed, status.targets, status.late) == (1, 2, 0)
    assert status.pending_by_parent == {"Công an quận Ba Đình": ["Công an phường Trúc Bạch"]}


async def test_late_confirmation_is_kept_and_counted(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
    officer = await make_member(session, clock, "HN-BD-TB")
    sent = await _send(session, clock, boss.actor)
    clock.advance(timedelta(hours=25))
    [result] = await confirm_taps(
        session, clock, [Tap(officer.telegram_user_id, sent.directive_id, 1)], TZ
    )
    assert result.result.outcome is Confirmed.CONFIRMED
    assert result.result.late
    status = await directive_views.status(session, boss.actor, sent.directive_id)
    assert status.late == 1


async def test_amend_asks_everyone_again(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
    officer = await make_member(session, clock, "HN-BD-PX")
    sent = await _send(session, clock, boss.actor, text="Họp 8 giờ")
    await confirm_taps(session, clock, [Tap(officer.telegram_user_id, sent.directive_id, 1)], TZ)
    await directives.amend(session, clock, boss.actor, sent.directive_id, "Họp 9 giờ", TZ)
    status = await directive_views.status(session, boss.actor, sent.directive_id)
    assert (status.version, status.confirmed) == (2, 0)
    newest = (await _rows(session))[-1]
    assert "• Họp “8” → “9” giờ" in newest.payload["text"]
    assert newest.payload["reply_markup"]["inline_keyboard"][0][0]["callback_data"].endswith(":2")
    other = await make_member(session, clock, "QN", Role.COORDINATOR)
    with pytest.raises(NotAllowed):
        await directives.amend(session, clock, other.actor, sent.directive_id, "x", TZ)


async def test_remind_only_pending_units(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
    done = await make_member(session, clock, "HN-BD-PX")
    waiting = await make_member(session, clock, "HN-BD-TB")
    sent = await _send(session, clock, boss.actor)
    await confirm_taps(session, clock, [Tap(done.telegram_user_id, sent.directive_id, 1)], TZ)
    before = len(await _rows(session))
    count = await directives.remind_pending(session, clock, boss.actor, sent.directive_id, TZ)
    rows = await _rows(session)
    assert count == 1
    assert [r.member_id for r in rows[before:]] == [waiting.id]


async def test_list_shows_counts(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    await make_member(session, clock, "HN-BD-PX")
    await _send(session, clock, boss.actor, "level:commune", text="Dòng đầu\nchi tiết")
    [(directive, targets, confirmed)] = await Rollups(session, boss.actor, clock.now()).reaching(10)
    assert (confirmed, targets, directive.text.splitlines()[0]) == (0, 2, "Dòng đầu")
    seen = await directives.preview(session, boss.actor, Target.parse("level:commune"), 30)
    assert (seen.unit_count, seen.member_count) == (2, 1)
    assert seen.nobody == ["Công an phường Trúc Bạch"]  # registered nowhere: nobody gets it


async def test_an_amendment_reaches_only_units_still_in_the_amenders_scope(session, clock) -> None:
    """A commune moved to another province by a units import no longer hears from its old
    district coordinator's amendments of an earlier directive."""
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
    stays = await make_member(session, clock, "HN-BD-PX")
    moved = await make_member(session, clock, "HN-BD-TB")
    sent = await _send(session, clock, boss.actor, text="Họp 8 giờ")
    assert sent.unit_count == 2  # the two communes below the district
    move = "code,name,level,parent_code\nHN-BD-TB,Công an phường Trúc Bạch,commune,QN-HL\n"
    await import_units(session, clock, Actor.system(), move.encode())
    target = await session.scalar(
        select(DirectiveTarget).where(DirectiveTarget.unit_id == moved.actor.unit_id)
    )
    target.confirmed_at, target.confirmed_version = clock.now(), 1
    await session.flush()
    await CountRepository(session).rebuild()  # confirmed past the services
    before = {row.id for row in await _rows(session)}

    again = await directives.amend(session, clock, boss.actor, sent.directive_id, "Họp 9 giờ", TZ)

    fresh = [row for row in await _rows(session) if row.id not in before]
    chats = {row.chat_id for row in fresh if "Họp 9 giờ" in row.payload["text"]}
    assert stays.chat_id in chats
    assert moved.chat_id not in chats
    assert again.unit_count == 1
    # The moved unit's copy of version 1 is left as it was, not marked as superseded.
    old = [r for r in await _rows(session) if r.chat_id == moved.chat_id and r.id in before]
    assert all("Họp 8 giờ" in r.payload["text"] for r in old)
    assert not any(r.chat_id == moved.chat_id for r in fresh)
    # and its confirmation of version 1 stands: the amendment does not ask it to confirm again
    await session.refresh(target)
    assert (target.confirmed_at, target.confirmed_version) == (clock.now(), 1)
    # Nor does "Nhắc lại" reach it: only the unit still in scope is reminded.
    assert await directives.remind_pending(session, clock, boss.actor, sent.directive_id, TZ) == 1
    reminded = [r for r in await _rows(session) if r.id not in before and r not in fresh]
    assert {r.chat_id for r in reminded} == {stays.chat_id}


async def test_a_directive_of_invisible_characters_is_empty(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    for text in ("\u200b", " \u200c\u200d\ufeff ", "\x00"):
        with pytest.raises(DirectiveError) as caught:
            await _send(session, clock, boss.actor, text=text)
        assert caught.value.key == "directive.empty_text"
    sent = await _send(session, clock, boss.actor, text="Họp\x00 8 giờ")
    assert sent.unit_count > 0
    assert all("\x00" not in r.payload["text"] for r in await _rows(session))
