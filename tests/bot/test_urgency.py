"""Độ khẩn and số hiệu of directives, and amendments that read right, called directly: the
levels as people write them, the copies and their headers, quiet hours and the short
re-reminders of Hỏa tốc, the command line, and amendments by "cũ => mới"."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from bot.core.clock import ManualClock, SystemClock
from bot.core.config import ConfigError, RemindersConfig, config_from_mapping
from bot.core.i18n import t
from bot.services import directives, reminders
from bot.services.directive_text import (
    DirectiveError,
    Urgency,
    asked_level,
    checked_number,
    parse_urgency,
    passages,
    rank,
    revised_text,
    urgency_mark,
)
from bot.services.directives import Target
from bot.services.quiet import QuietHours
from handlers.amendments import copyable
from handlers.urgency import chosen_urgency, draft_urgency, urgency_buttons
from storage.db import Database
from storage.models import Directive, OutboxMessage, Role
from storage.repositories.reminders import ReminderRepository
from tests.factories import TREE, make_member, make_tree

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NIGHT = datetime(2026, 7, 1, 23, 0, tzinfo=TZ)


async def _send(session, clock, actor, **kw) -> directives.Sent:
    return await directives.send_directive(
        session,
        clock,
        actor,
        text=kw.pop("text", "Rà soát địa điểm tổ chức Ngày hội."),
        target=Target.parse(kw.pop("target", "list:HN-BD-TB")),
        ack_by=kw.pop("ack_by", clock.now() + timedelta(hours=24)),
        tz=TZ,
        **kw,
    )


async def _texts(session: AsyncSession, after: int = 0) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.method == "sendMessage", OutboxMessage.id > after)
        .order_by(OutboxMessage.id)
    )
    return list(rows)


async def _last_id(session: AsyncSession) -> int:
    rows = await _texts(session)
    return rows[-1].id if rows else 0


# -- levels and numbers as people write them ------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("Hỏa tốc", Urgency.FLASH),
        ("hoả tốc", Urgency.FLASH),  # the old tone-mark placement
        ("HOA TOC", Urgency.FLASH),
        ("hoa_toc", Urgency.FLASH),
        ("Thượng khẩn", Urgency.VERY_URGENT),
        ("thuong_khan", Urgency.VERY_URGENT),
        ("khẩn", Urgency.URGENT),
        ("Thường", Urgency.NORMAL),
        ("Gấp", None),  # not a level of official correspondence
        ("", None),
        ("x" * 500, None),
    ],
)
def test_levels_as_written(typed: str, level: Urgency | None) -> None:
    assert parse_urgency(typed) == level


def test_the_old_urgent_flag_is_hoa_toc_and_contradicts_other_levels() -> None:
    assert asked_level(None, urgent=True) is Urgency.FLASH
    assert asked_level(None) is Urgency.NORMAL
    assert asked_level("hoa_toc", urgent=True) is Urgency.FLASH
    with pytest.raises(DirectiveError) as caught:
        asked_level("khan", urgent=True)
    assert caught.value.key == "urgency.conflict"
    with pytest.raises(DirectiveError) as unknown:
        asked_level("gap")
    assert unknown.value.key == "urgency.bad_level"


def test_most_urgent_sorts_first_and_thuong_has_no_mark() -> None:
    assert sorted(["thuong", "khan", "hoa_toc", "thuong_khan", "bogus"], key=rank) == [
        "hoa_toc",
        "thuong_khan",
        "khan",
        "thuong",
        "bogus",
    ]
    assert urgency_mark("vi", "thuong") == ""
    assert urgency_mark("vi", "thuong_khan") == "🔴 Thượng khẩn "
    assert urgency_mark("en", "hoa_toc") == "🔴 Flash "


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("1" * 51, "urgency.number_too_long"),
        ("125/CV\n-BCĐ", "urgency.number_control"),
        ("125\u200b/CV", "urgency.number_control"),
        ("\x07125", "urgency.number_control"),
        ("CV-BCĐ", "urgency.number_no_digit"),
    ],
)
def test_bad_numbers_are_explained(typed: str, key: str) -> None:
    with pytest.raises(DirectiveError) as caught:
        checked_number(typed)
    assert caught.value.key == key


def test_a_number_is_kept_as_typed_trimmed_and_in_nfc() -> None:
    assert checked_number("  125/CV-BCĐ ") == "125/CV-BCĐ"
    assert checked_number("125/CV-BC\u0110") == "125/CV-BCĐ"
    assert checked_number("12/KH  BCĐ") == "12/KH BCĐ"
    assert checked_number("   ") is None
    assert checked_number(None) is None
    assert checked_number("1" * 50) == "1" * 50


def test_the_urgency_step_offers_four_levels_two_by_two() -> None:
    rows = urgency_buttons("vi")
    assert [[b.label for b in row] for row in rows] == [
        ["Thường", "🔴 Khẩn"],
        ["🔴 Thượng khẩn", "🔴 Hỏa tốc"],
    ]
    assert all(len(row) <= 3 for row in rows)
    assert rows[1][1].callback_data == "cp:u:hoa_toc"
    with_number = urgency_buttons("vi", numbered=True)
    assert with_number[-1][0].callback_data == "cp:n:skip"
    assert all(len(b.label) <= 20 for row in with_number for b in row)


def test_forms_saved_before_the_levels_keep_their_meaning() -> None:
    assert draft_urgency({"urgent": True}) is Urgency.FLASH
    assert draft_urgency({"urgent": False}) is Urgency.NORMAL
    assert draft_urgency({"urgency": "thuong_khan"}) is Urgency.VERY_URGENT
    assert chosen_urgency("1") is Urgency.FLASH  # a keyboard sent before the deploy
    assert chosen_urgency("Hỏa tốc") is None  # a button carries the stored value only


# -- copies -------------------------------------------------------------------------------------
async def test_each_level_is_stored_with_urgent_exactly_for_hoa_toc(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    await make_member(session, clock, "HN-BD-TB")
    await make_member(session, clock, "HN-BD-TB", language="en")
    expected = {
        Urgency.NORMAL: ("📢 CHỈ ĐẠO #", "📢 DIRECTIVE #"),
        Urgency.URGENT: ("🔴 CHỈ ĐẠO KHẨN #", "🔴 URGENT DIRECTIVE #"),
        Urgency.VERY_URGENT: ("🔴 CHỈ ĐẠO THƯỢNG KHẨN #", "🔴 VERY URGENT DIRECTIVE #"),
        Urgency.FLASH: ("🔴 CHỈ ĐẠO HỎA TỐC #", "🔴 FLASH DIRECTIVE #"),
    }
    for level, (vi, en) in expected.items():
        before = await _last_id(session)
        sent = await _send(session, clock, boss.actor, urgency=level, document_number="125/CV-BCĐ")
        directive = await session.get(Directive, sent.directive_id)
        assert directive is not None
        assert (directive.urgency, directive.urgent) == (level.value, level is Urgency.FLASH)
        assert directive.document_number == "125/CV-BCĐ"
        vi_copy, en_copy = (r.payload["text"] for r in await _texts(session, before))
        assert vi_copy.startswith(f"{vi}{sent.directive_id}\nSố hiệu: 125/CV-BCĐ\nTừ: ")
        assert en_copy.startswith(f"{en}{sent.directive_id}\nDocument number: 125/CV-BCĐ\n")
    before = await _last_id(session)
    plain = await _send(session, clock, boss.actor)
    assert all("Số hiệu" not in r.payload["text"] for r in await _texts(session, before))
    stored = await session.get(Directive, plain.directive_id)
    assert stored is not None
    assert (stored.urgency, stored.urgent, stored.document_number) == ("thuong", False, None)


async def test_a_bad_number_or_level_sends_nothing(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    await make_member(session, clock, "HN-BD-TB")
    for kw in (
        {"document_number": "9" * 51},
        {"urgency": "gap"},
        {"urgency": "khan", "urgent": True},
    ):
        with pytest.raises(DirectiveError):
            await _send(session, clock, boss.actor, **kw)
    assert await _texts(session) == []
    assert await session.scalar(select(Directive.id)) is None


async def test_only_hoa_toc_goes_through_quiet_hours(session, clock: ManualClock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    await make_member(session, clock, "HN-BD-TB")
    clock.set(NIGHT)
    quiet = QuietHours.within(RemindersConfig(), TZ)
    held = {}
    for level in Urgency:
        sent = await _send(session, clock, boss.actor, urgency=level, quiet=quiet)
        held[level] = sent.held_until
    morning = datetime(2026, 7, 2, 6, 30, tzinfo=TZ)
    assert held == {
        Urgency.NORMAL: morning,
        Urgency.URGENT: morning,
        Urgency.VERY_URGENT: morning,
        Urgency.FLASH: None,
    }


# -- re-reminders ---------------------------------------------------------------------------
async def test_hoa_toc_is_re_reminded_every_half_hour_through_the_night(
    session, clock: ManualClock
) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    officer = await make_member(session, clock, "HN-BD-TB")
    clock.set(NIGHT)
    config = RemindersConfig()
    assert config.flash_remind_every == timedelta(minutes=30)
    quiet = QuietHours.within(config, TZ)
    flash = await _send(
        session, clock, boss.actor, urgency="hoa_toc", document_number="7/HT-BCĐ", quiet=quiet
    )
    await _send(session, clock, boss.actor, urgency="khan", quiet=quiet)
    await _send(session, clock, boss.actor, urgency="thuong", quiet=quiet)
    seen = await _last_id(session)

    async def sweep_at(moment: datetime) -> list[OutboxMessage]:
        nonlocal seen
        report = await reminders.sweep(session, moment, config, TZ)
        rows = await _texts(session, seen)
        seen = rows[-1].id if rows else seen
        assert report.directive_reminders == len(rows)
        return rows

    assert await sweep_at(NIGHT + timedelta(minutes=29)) == []
    (first,) = await sweep_at(NIGHT + timedelta(minutes=30))
    assert first.member_id == officer.id
    assert first.not_before == NIGHT + timedelta(minutes=30)  # at once, at night
    text = first.payload["text"]
    assert text.startswith("🔔 NHẮC LẠI")
    assert f"🔴 CHỈ ĐẠO HỎA TỐC #{flash.directive_id}\nSố hiệu: 7/HT-BCĐ" in text
    assert "(còn 23 giờ 30 phút)" in text  # a reminder says how long is left
    assert await sweep_at(NIGHT + timedelta(minutes=45)) == []
    (second,) = await sweep_at(NIGHT + timedelta(minutes=61))
    assert second.payload["text"] != text  # never the same text twice
    # The Khẩn and Thường ones waited for the morning and keep the usual 12 hours.
    assert [r.member_id for r in await sweep_at(datetime(2026, 7, 2, 7, 0, tzinfo=TZ))] == [
        officer.id
    ]  # the Hỏa tốc one alone (the others reached the unit at 06:30)


async def test_a_setting_of_its_own_and_khan_listed_before_thuong(
    session, clock: ManualClock
) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN", Role.COORDINATOR)
    officer = await make_member(session, clock, "HN-BD-TB")
    start = clock.now()
    ids = {}
    for level in ("thuong", "khan", "hoa_toc", "thuong_khan"):
        ids[level] = (await _send(session, clock, boss.actor, urgency=level)).directive_id
    live = await ReminderRepository(session).live_directives(start)
    assert [d.id for d, _ in live] == [ids[k] for k in ("hoa_toc", "thuong_khan", "khan", "thuong")]
    config = replace(RemindersConfig(), flash_remind_every=timedelta(minutes=5))
    seen = await _last_id(session)
    report = await reminders.sweep(session, start + timedelta(minutes=5), config, TZ)
    assert report.directive_reminders == 1
    report = await reminders.sweep(session, start + timedelta(hours=12), config, TZ)
    assert report.directive_reminders == 4  # Hỏa tốc again, and the three others, once
    bundle = [r for r in await _texts(session, seen) if r.member_id == officer.id][-1]
    text = bundle.payload["text"]
    assert text.index("🔴 Chỉ đạo Thượng khẩn") < text.index("🔴 Chỉ đạo Khẩn")
    assert text.index("🔴 Chỉ đạo Khẩn") < text.index(f"📢 Chỉ đạo #{ids['thuong']}")


def test_flash_remind_every_is_validated() -> None:
    assert config_from_mapping({}).reminders.flash_remind_every == timedelta(minutes=30)
    got = config_from_mapping({"reminders": {"flash_remind_every": "10m"}}, env={})
    assert got.reminders.flash_remind_every == timedelta(minutes=10)
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"reminders": {"flash_remind_every": "1m"}}, env={})
    assert caught.value.key == "reminders.flash_remind_every"
    example = (Path(__file__).parents[2] / "config.example.toml").read_text(encoding="utf-8")
    assert 'flash_remind_every = "30m"' in example


# -- amendments -----------------------------------------------------------------------------
TEXT = (
    "Đề nghị Công an các xã, phường rà soát địa điểm tổ chức Ngày hội toàn dân bảo vệ an ninh "
    "Tổ quốc và báo cáo trước 17:00 ngày 25/11.\nMang theo giấy tờ và máy tính.\n"
    "Liên hệ đồng chí Hoa."
)


def test_a_replacement_line_changes_one_passage() -> None:
    assert revised_text(TEXT, "17:00 => 15:00") == TEXT.replace("17:00", "15:00")
    assert revised_text(TEXT, " và máy tính =>") == TEXT.replace(" và máy tính", "")
    both = revised_text(TEXT, "17:00 => 15:00\nđồng chí Hoa => đồng chí Lan")
    assert both is not None
    assert "15:00" in both
    assert "đồng chí Lan" in both
    assert revised_text(TEXT, "Một nội dung mới hoàn toàn.") is None  # a whole new text


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("18:00 => 15:00", "urgency.amend_not_found"),
        ("và => hoặc", "urgency.amend_ambiguous"),
        ("=> thêm", "urgency.amend_no_old"),
        ("17:00 => 15:00\n18:00 => 19:00", "urgency.amend_not_found"),  # all or nothing
    ],
)
def test_a_replacement_that_names_no_one_passage_is_refused(typed: str, key: str) -> None:
    with pytest.raises(DirectiveError) as caught:
        revised_text(TEXT, typed)
    assert caught.value.key == key


def test_the_notice_shows_the_change_once_with_a_little_context() -> None:
    lines = passages("vi", "Họp lúc 8 giờ tại hội trường A.", "Họp lúc 9 giờ tại hội trường A.")
    assert lines == ["• Họp lúc “8” → “9” giờ tại hội trường A."]
    after = (revised_text(TEXT, "17:00 => 15:00") or "").replace(" và máy tính", "")
    lines = passages("vi", TEXT, after)
    assert lines == [
        "• … và báo cáo trước “17:00” → “15:00” ngày 25/11.",
        "• Mang theo giấy tờ [bỏ “và máy tính”].",
    ]
    assert passages("en", "Mang theo giấy tờ.", "Mang theo thẻ ngành, giấy tờ.") == [
        "• Mang theo [added “thẻ ngành,”] giấy tờ."
    ]
    assert passages("vi", "Họp lúc 8 giờ.", "Toàn bộ kế hoạch đã thay đổi, chờ thông báo sau.") == [
        t("vi", "urgency.changes_rewritten")
    ]


def test_many_changes_stay_within_their_budget() -> None:
    before = "\n".join(f"Dòng {i}: đơn vị {i} báo cáo lúc 8 giờ." for i in range(200))
    after = before.replace("8 giờ", "9 giờ")
    lines = passages("vi", before, after, budget=500)
    assert sum(len(line) + 1 for line in lines) <= 500 + 80
    assert lines[-1].startswith("… và ")


async def test_an_amendment_by_replacement_reads_right_and_fits(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN-BD", Role.COORDINATOR)
    await make_member(session, clock, "HN-BD-TB")
    long_text = TEXT + "\n" + "Nội dung chi tiết. " * 160
    sent = await _send(session, clock, boss.actor, text=long_text.strip(), urgency="khan")
    before = await _last_id(session)
    with pytest.raises(DirectiveError) as unknown:
        await directives.amend_typed(
            session, clock, boss.actor, sent.directive_id, "18:00 => 9:00", TZ
        )
    assert unknown.value.key == "urgency.amend_not_found"
    with pytest.raises(DirectiveError) as same:
        await directives.amend_typed(session, clock, boss.actor, sent.directive_id, long_text, TZ)
    assert same.value.key == "urgency.amend_same"
    directive = await session.get(Directive, sent.directive_id)
    assert directive is not None
    assert directive.version == 1
    assert await _texts(session, before) == []  # nothing changed, nothing sent

    await directives.amend_typed(
        session, clock, boss.actor, sent.directive_id, "17:00 => 15:00", TZ
    )
    assert (directive.version, directive.urgency) == (2, "khan")
    assert "trước 15:00 ngày 25/11" in directive.text
    notice = next(
        r.payload["text"]
        for r in await _texts(session, before)
        if "Bản sửa đổi" in r.payload["text"]
    )
    assert len(notice) <= 4096
    assert notice.startswith(f"🔴 CHỈ ĐẠO KHẨN #{sent.directive_id}")
    assert "“17:00” → “15:00”" in notice
    assert notice.count("và báo cáo trước") == 2  # the passage, and the full text once
    assert "Toàn văn bản sửa đổi:" in notice


async def test_the_longest_amended_copy_still_fits_one_message(session, clock) -> None:
    await make_tree(session, clock)
    boss = await make_member(session, clock, "HN-BD", Role.COORDINATOR, name="Đ" * 150)
    await make_member(session, clock, "HN-BD-TB")
    longest = ("Họp lúc 8 giờ. " + "Nội dung chi tiết, " * 200)[: directives.MAX_TEXT].strip()
    sent = await _send(session, clock, boss.actor, text=longest, urgency="hoa_toc")
    before = await _last_id(session)
    await directives.amend_typed(
        session, clock, boss.actor, sent.directive_id, "8 giờ => 9 giờ", TZ
    )
    (notice,) = [r.payload["text"] for r in await _texts(session, before)]
    assert len(notice) <= 4096
    assert "Họp lúc 9 giờ." in notice
    directive = await session.get(Directive, sent.directive_id)
    assert directive is not None
    again = directives.directive_text("vi", directive, TZ, reminder=True, now=clock.now())
    assert len(again) <= 4096


def test_the_current_text_is_one_code_block_counted_in_utf16() -> None:
    lead = "✏️ Sửa chỉ đạo #1 📢"  # emoji take two UTF-16 units
    text, (entity,) = copyable(lead, "Họp lúc 8 giờ 🔴.")
    assert entity.type == "pre"
    assert entity.offset == len((lead + "\n").encode("utf-16-le")) // 2
    assert entity.length == len("Họp lúc 8 giờ 🔴.".encode("utf-16-le")) // 2
    assert text == lead + "\nHọp lúc 8 giờ 🔴."


# -- the command line -----------------------------------------------------------------------
def test_cli_urgency_and_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    units = tmp_path / "units.csv"
    units.write_text(TREE, encoding="utf-8")
    assert main(["--config", str(config), "units", "import", str(units)]) == 0

    async def seed() -> int:
        db = Database(url)
        async with db.session() as session:
            boss = await make_member(session, SystemClock(), "BCA", Role.COORDINATOR)
            await make_member(session, SystemClock(), "HN-BD-PX")
        await db.dispose()
        return boss.id

    boss_id = asyncio.run(seed())
    text = tmp_path / "directive.txt"
    text.write_text("Báo cáo ngay thiệt hại do bão.", encoding="utf-8")
    base = ["--config", str(config), "directive", "send", "--from", str(boss_id)]
    base += ["--to", "level:commune", "--text-file", str(text), "--ack-by", "4h"]
    capsys.readouterr()
    assert main([*base, "--urgency", "thuong_khan", "--number", "125/CV-BCĐ"]) == 0
    assert "Độ khẩn: Thượng khẩn (125/CV-BCĐ)" in capsys.readouterr().out
    assert main([*base, "--urgent"]) == 0
    assert "Độ khẩn: Hỏa tốc" in capsys.readouterr().out
    assert main([*base, "--urgency", "gap"]) == 2
    assert "Không có độ khẩn “gap”" in capsys.readouterr().err
    assert main([*base, "--urgent", "--urgency", "khan"]) == 2
    assert main([*base, "--number", "x" * 60]) == 2
    assert "tối đa 50 ký tự" in capsys.readouterr().err

    async def stored() -> list[tuple[str, bool, str | None]]:
        db = Database(url)
        async with db.session() as session:
            rows = await session.execute(
                select(Directive.urgency, Directive.urgent, Directive.document_number).order_by(
                    Directive.id
                )
            )
            found = [(u, bool(g), n) for u, g, n in rows]
        await db.dispose()
        return found

    assert asyncio.run(stored()) == [
        ("thuong_khan", False, "125/CV-BCĐ"),
        ("hoa_toc", True, None),
    ]
