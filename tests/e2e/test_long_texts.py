"""A note longer than one Telegram message: the phone sends it in parts, the bot reads it whole.

The emulator's ``Person.send`` cuts a long text as a phone does (between words, the space at
the cut dropped). The parts join into one note, answered once; what carries the note to the
coordinators fits one message and points to the history, which shows it whole. A full part
that nothing follows is taken alone when its window closes, and a part held when the bot
stops is taken at the next start.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.emulator.people import phone_parts
from handlers import long_texts
from storage.models import HeldPart, TaskReport
from tests.e2e.conftest import WAIT, BotEnv
from tests.e2e.test_tasks import _report, _setup, _task


def _long_note(words: int) -> str:
    """Sentences of varied words, numbered, so any lost or doubled piece shows."""
    return " ".join(f"Nội dung {n}: thiếu kinh phí, đề nghị hỗ trợ." for n in range(words))


async def _notes(env: BotEnv) -> list[str]:
    async with env.db.session() as session:
        return list(await session.scalars(select(TaskReport.note).order_by(TaskReport.id)))


async def _held(env: BotEnv) -> int:
    async with env.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(HeldPart)) or 0)


async def test_a_note_the_phone_split_in_three_is_one_note_answered_once(env: BotEnv) -> None:
    district, an, _, _ = await _setup(env)
    await _task(district, "Chuẩn bị hội trường")
    await _report(an, await an.next_message(), "Gặp khó khăn", "25%")
    await env.expect(district, "GẶP KHÓ KHĂN — nhiệm vụ #1")
    note = _long_note(220)
    assert len(phone_parts(note)) == 3  # what the phone sends: three messages

    an.send(note)
    assert "Đã thêm ghi chú" in (await an.next_message()).body
    assert (await _notes(env))[-1] == note  # joined whole, in order, nothing repeated
    more = await env.expect(district, "Bổ sung về khó khăn — nhiệm vụ #1")
    assert note[:200] in more.body
    assert "xem toàn văn: /task 1 HN-BD-PX" in more.body
    await env.settle()
    assert not an.unread(), "one answer for the three parts"
    assert all(len(m.body) <= 4096 for m in district.bot_messages())

    before = len(district.bot_messages())
    await district.ask("/task 1 HN-BD-PX")

    def history() -> str:
        return " ".join(m.body for m in district.bot_messages()[before:])

    await env.until(lambda: "Nội dung 219: thiếu kinh phí" in history())  # the last words
    assert all(f"Nội dung {n}:" in history() for n in range(220))  # and all before them
    assert all(len(m.body) <= 4096 for m in district.bot_messages())


async def test_a_long_command_is_read_whole(env: BotEnv) -> None:
    district, an, _, _ = await _setup(env)
    await _task(district, "Rà soát địa điểm")
    await an.next_message()
    note = _long_note(150)
    an.send(f"/report 1 xong {note}")
    saved = await an.next_message()
    assert "Hoàn thành, 100%" in saved.body
    assert (await _notes(env))[-1] == note


async def test_a_note_over_the_limit_is_refused_whole(env: BotEnv) -> None:
    district, an, _, _ = await _setup(env)
    await _task(district, "Rà soát địa điểm")
    await _report(an, await an.next_message(), "Đang thực hiện", "50%")
    an.send(_long_note(400))  # about 19,000 characters: five parts
    refused = await an.next_message()
    assert "tối đa 12000 ký tự" in refused.body
    assert "chưa có gì được lưu" in refused.body
    await env.settle()
    assert not an.unread(), "one answer for the five parts"
    assert (await _notes(env))[-1] == ""  # nothing of it added to the report


async def test_a_full_part_alone_is_taken_when_its_window_closes(env: BotEnv) -> None:
    district, an, _, _ = await _setup(env)
    await _task(district, "Rà soát địa điểm")
    await _report(an, await an.next_message(), "Đang thực hiện", "50%")
    note = "Đã rà soát. " * 330  # 3,960 characters: one message, long enough to wait
    assert len(phone_parts(note)) == 1
    an.send(note)
    assert "Đã thêm ghi chú" in (await an.next_message()).body
    assert (await _notes(env))[-1] == note.strip()
    assert await _held(env) == 0


async def test_a_part_held_when_the_bot_stops_is_taken_at_the_next_start(
    env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(long_texts, "WINDOW", WAIT * 10)  # the window outlasts the restart
    await env.restart()
    district, an, _, _ = await _setup(env)
    await _task(district, "Rà soát địa điểm")
    await _report(an, await an.next_message(), "Đang thực hiện", "50%")
    part = "Đã rà soát. " * 330
    an.send(part)
    async with asyncio.timeout(WAIT):
        while not await _held(env):  # noqa: ASYNC110 - a database has no event
            await asyncio.sleep(0.02)
    assert not an.unread()
    await env.restart()
    assert "Đã thêm ghi chú" in (await an.next_message()).body
    assert (await _notes(env))[-1] == part.strip()
    assert await _held(env) == 0
