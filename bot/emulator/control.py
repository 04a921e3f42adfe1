"""An HTTP control panel for an emulator running in another process (benchmarks, manual runs).

``/_control/users`` creates people, ``/_control/limits`` and ``/_control/fault`` change the
rules, ``/_control/taps`` makes people press a button at a steady pace, ``/_control/stats``
reports what was delivered, refused and answered.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.emulator.limits import Fault, FaultKind, LimitSettings

if TYPE_CHECKING:
    from bot.emulator.server import BotApiEmulator


def add_routes(app: web.Application, emu: BotApiEmulator) -> None:
    taps: dict[str, float] = {}  # callback query id -> when it was pushed (loop time)

    async def users(request: web.Request) -> web.Response:
        body = await request.json()
        made = [emu.add_user(f"{body.get('prefix', 'U')}{i}").id for i in range(body["count"])]
        return web.json_response({"ids": made})

    async def limits(request: web.Request) -> web.Response:
        body = await request.json()
        known = {f.name for f in fields(LimitSettings)}
        emu.set_limits(LimitSettings(**{k: v for k, v in body.items() if k in known}))
        return web.json_response({"ok": True})

    async def fault(request: web.Request) -> web.Response:
        body = await request.json()
        emu.add_fault(Fault(kind=FaultKind(body.pop("kind")), **body))
        return web.json_response({"ok": True})

    async def tap(request: web.Request) -> web.Response:
        body = await request.json()
        asyncio.get_running_loop().create_task(
            _tap_steadily(emu, taps, body["users"], body["data"], body["count"], body["seconds"])
        )
        return web.json_response({"ok": True})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(_stats(emu, taps))

    async def reset(request: web.Request) -> web.Response:
        emu.delivered.clear()
        emu.send_times.clear()
        emu.errors.clear()
        emu.limits.requests_during_ban = 0
        emu.limits.requests_in_flight_at_ban = 0
        emu.limits.ban_windows.clear()
        taps.clear()
        return web.json_response({"ok": True})

    app.router.add_post("/_control/users", users)
    app.router.add_post("/_control/limits", limits)
    app.router.add_post("/_control/fault", fault)
    app.router.add_post("/_control/taps", tap)
    app.router.add_get("/_control/stats", stats)
    app.router.add_post("/_control/reset", reset)


async def _tap_steadily(
    emu: BotApiEmulator,
    taps: dict[str, float],
    users: list[int],
    data: str,
    count: int,
    seconds: float,
) -> None:
    world = emu.world
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index in range(count):
        due = start + index * seconds / count
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        user = world.users[users[index % len(users)]]
        query_id = world.new_query_id()
        taps[query_id] = loop.time()
        world.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "chat_instance": str(user.id),
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
                },
                "data": data,
            },
        )


def _stats(emu: BotApiEmulator, taps: dict[str, float]) -> dict[str, Any]:
    latencies = sorted(
        emu.world.answers[q].at - pushed for q, pushed in taps.items() if q in emu.world.answers
    )
    return {
        "now": time.monotonic(),
        "delivered": sum(emu.delivered.values()),
        "chats": len(emu.delivered),
        "duplicates": sum(c - 1 for c in emu.delivered.values() if c > 1),
        "per_chat": {str(k): v for k, v in emu.delivered.items()},
        "send_times": emu.send_times,
        "errors": {str(k): v for k, v in emu.errors.items()},
        "requests_during_ban": emu.limits.requests_during_ban,
        "requests_in_flight_at_ban": emu.limits.requests_in_flight_at_ban,
        "ban_windows": emu.limits.ban_windows,
        "calls": dict(emu.calls),
        "taps_pushed": len(taps),
        "taps_answered": len(latencies),
        "tap_latencies": latencies,
    }
