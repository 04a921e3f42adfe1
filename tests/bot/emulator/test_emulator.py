"""The Bot API emulator validates what Telegram validates and enforces its limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.emulator import BotApiEmulator, Fault, FaultKind, LimitSettings


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(limits=LimitSettings(enabled=True)) as emulator:
        yield emulator


async def call(emu: BotApiEmulator, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{emu.base_url}{emu.token}/{method}", json=params)
    return response.status_code, response.json()


async def test_get_me_and_wrong_token(emu: BotApiEmulator) -> None:
    status, body = await call(emu, "getMe")
    assert status == 200
    assert body["result"]["username"] == "fieldbot_emulator_bot"
    async with httpx.AsyncClient() as client:
        wrong = await client.post(f"{emu.base_url}nope/getMe")
    assert wrong.status_code == 401


async def test_unknown_method_is_404(emu: BotApiEmulator) -> None:
    status, _ = await call(emu, "sendTelepathy")
    assert status == 404


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "   "}, "message text is empty"),
        (
            {
                "text": "ok",
                "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "x" * 65}]]},
            },
            "BUTTON_DATA_INVALID",
        ),
        ({"text": "ok", "chat_id": 42}, "chat not found"),
    ],
)
async def test_send_message_validation(emu: BotApiEmulator, params: dict, description: str) -> None:
    user = emu.add_user("An")
    status, body = await call(emu, "sendMessage", **{"chat_id": user.id, **params})
    assert status == 400
    assert description in body["description"]


async def test_text_of_exactly_4096_and_64_byte_data_pass(emu: BotApiEmulator) -> None:
    user = emu.add_user("An")
    data = "đ" * 32  # 64 bytes in UTF-8
    status, body = await call(
        emu,
        "sendMessage",
        chat_id=user.id,
        text="x" * 4096,
        reply_markup={"inline_keyboard": [[{"text": "b", "callback_data": data}]]},
    )
    assert status == 200
    assert body["result"]["message_id"] == 1


async def test_caption_limit(emu: BotApiEmulator) -> None:
    user = emu.add_user("An")
    status, body = await call(
        emu, "sendPhoto", chat_id=user.id, photo="file-id", caption="c" * 1025
    )
    assert status == 400
    assert "caption is too long" in body["description"]


async def test_blocked_user_gets_403(emu: BotApiEmulator) -> None:
    user = emu.add_user("An")
    user.blocked_bot = True
    status, body = await call(emu, "sendMessage", chat_id=user.id, text="hi")
    assert status == 403
    assert "blocked" in body["description"]


async def test_per_chat_limit_answers_429_with_retry_after(emu: BotApiEmulator) -> None:
    user = emu.add_user("An")
    assert (await call(emu, "sendMessage", chat_id=user.id, text="1"))[0] == 200
    status, body = await call(emu, "sendMessage", chat_id=user.id, text="2")
    assert status == 429
    assert body["parameters"]["retry_after"] >= 1
    other = emu.add_user("Bình")
    assert (await call(emu, "sendMessage", chat_id=other.id, text="1"))[0] == 200


async def test_overall_bucket_bans_the_whole_bot(emu: BotApiEmulator) -> None:
    # A bucket that does not refill and a ban that does not end while a stalled machine
    # catches up, so only the burst decides.
    emu.set_limits(LimitSettings(global_rate=0.01, global_burst=5, global_retry_after=60))
    users = [emu.add_user(f"U{i}") for i in range(7)]
    statuses = [(await call(emu, "sendMessage", chat_id=u.id, text="x"))[0] for u in users]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses[5:]
    start, end = emu.limits.ban_windows[-1]
    assert end - start == 60
    assert emu.limits.banned_until > time.monotonic() + 50
    assert emu.limits.requests_in_flight_at_ban + emu.limits.requests_during_ban >= 1
    in_flight = emu.limits.requests_in_flight_at_ban
    await asyncio.sleep(0.1)  # past one round trip: the client must know of the ban by now
    assert (await call(emu, "sendMessage", chat_id=users[0].id, text="x"))[0] == 429
    assert emu.limits.requests_in_flight_at_ban == in_flight
    assert emu.limits.requests_during_ban >= 1


async def test_injected_faults(emu: BotApiEmulator) -> None:
    user = emu.add_user("An")
    emu.add_fault(Fault(FaultKind.SERVER_ERROR, method="sendMessage"))
    emu.add_fault(Fault(FaultKind.FLOOD, method="sendMessage", retry_after=7))
    assert (await call(emu, "sendMessage", chat_id=user.id, text="x"))[0] == 502
    status, body = await call(emu, "sendMessage", chat_id=user.id, text="x")
    assert (status, body["parameters"]["retry_after"]) == (429, 7)
    status, _ = await call(emu, "sendMessage", chat_id=user.id, text="x")
    assert status == 429, "the injected ban holds for the whole bot"


async def test_edit_and_callback_answer(emu: BotApiEmulator) -> None:
    emu.set_limits(LimitSettings(enabled=False))
    person = emu.person("An")
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    _, sent = await call(emu, "sendMessage", chat_id=person.user.id, text="a", reply_markup=markup)
    message_id = sent["result"]["message_id"]
    status, body = await call(
        emu,
        "editMessageText",
        chat_id=person.user.id,
        message_id=message_id,
        text="a",
        reply_markup=markup,
    )
    assert (status, body["description"]) == (400, "Bad Request: message is not modified")
    assert (
        await call(emu, "editMessageText", chat_id=person.user.id, message_id=message_id, text="b")
    )[0] == 200
    assert person.last().body == "b"
    assert person.last().buttons() == []
    query = person.press_data(person.last(), "ok")
    assert (await call(emu, "answerCallbackQuery", callback_query_id=query, text="xong"))[0] == 200
    assert emu.world.answers[query].text == "xong"
    assert (await call(emu, "answerCallbackQuery", callback_query_id=query))[0] == 400


async def test_get_updates_long_polls_and_confirms(emu: BotApiEmulator) -> None:
    person = emu.person("An")
    started = time.monotonic()
    _, empty = await call(emu, "getUpdates", timeout=1)
    assert empty["result"] == []
    assert time.monotonic() - started >= 0.9
    person.send("/help")
    person.send("hello")
    _, body = await call(emu, "getUpdates", timeout=1)
    updates = body["result"]
    assert [u["message"]["text"] for u in updates] == ["/help", "hello"]
    assert updates[0]["message"]["entities"][0] == {"type": "bot_command", "offset": 0, "length": 5}
    _, after = await call(emu, "getUpdates", offset=updates[-1]["update_id"] + 1)
    assert after["result"] == []


async def test_get_updates_returns_at_most_100(emu: BotApiEmulator) -> None:
    person = emu.person("An")
    for i in range(150):
        person.send(str(i))
    _, body = await call(emu, "getUpdates", limit=500)
    assert len(body["result"]) == 100
