"""Each scenario runs fieldbot and, where it applies, the peer on the same emulator."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bench.harness import (
    Delivery,
    Emulator,
    bot_config,
    delivery,
    percentile,
    seed_broadcast,
    temp_db,
    wait_delivered,
)
from bot.runner import serve

TEXT = "📢 Triển khai Kế hoạch 333/KH-BCĐ; xác nhận đã nhận."


async def _users(emu: Emulator, count: int) -> list[int]:
    return list((await emu.control("users", count=count))["ids"])


async def fieldbot_broadcast(emu: Emulator, members: int, rate: float) -> dict[str, Any]:
    """A directive to ``members`` people through the outbox, the bot started as in production."""
    await emu.limits(rate)
    await asyncio.sleep(1.5)  # let the emulator's bucket refill after the previous run
    await emu.reset()
    chat_ids = await _users(emu, members)
    async with temp_db() as url:
        _, enqueue_seconds = await seed_broadcast(url, chat_ids)
        in_flight = max(16, int(rate * 0.25))
        config = bot_config(emu, url, rate_per_second=rate, max_in_flight=in_flight)
        stop, started = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(config, stop, started=started))
        await started.wait()
        stats = await wait_delivered(emu, members, within=members / rate * 3 + 60)
        stop.set()
        await task
    return {"delivery": delivery(stats, chat_ids), "enqueue_seconds": enqueue_seconds}


async def peer_broadcast(emu: Emulator, members: int, rate: float, *, gather: bool) -> Delivery:
    """python-telegram-bot's AIORateLimiter with a plain send loop (gathered or awaited)."""
    await emu.limits(rate)
    await asyncio.sleep(1.5)
    await emu.reset()
    chat_ids = await _users(emu, members)
    bot = ExtBot(
        emu.token,
        base_url=emu.base_url,
        request=HTTPXRequest(connection_pool_size=512, read_timeout=60, pool_timeout=600),
        rate_limiter=AIORateLimiter(overall_max_rate=rate, max_retries=3),
    )
    async with bot:

        async def send(chat_id: int) -> None:
            # A message that still fails after the peer's retries is dropped, as the peer does.
            with contextlib.suppress(TelegramError):
                await bot.send_message(chat_id, TEXT)

        if gather:
            await asyncio.gather(*(send(c) for c in chat_ids))
        else:
            for chat_id in chat_ids:
                await send(chat_id)
    return delivery(await emu.stats(), chat_ids)


async def storm(emu: Emulator, members: int, bans: list[int], peer: bool) -> dict[str, Any]:
    """Flood bans of 5–30 s injected during a broadcast; nothing may go out during a ban."""

    async def inject() -> None:
        for seconds in bans:
            await asyncio.sleep(4)
            await emu.control("fault", kind="429", method="sendMessage", retry_after=seconds)
            await asyncio.sleep(seconds)

    injector = asyncio.create_task(inject())
    if peer:
        result: Delivery = await peer_broadcast(emu, members, 30, gather=True)
    else:
        result = (await fieldbot_broadcast(emu, members, 30))["delivery"]
    await injector
    stats = await emu.stats()
    times = sorted(stats["send_times"])
    gaps = []
    for _, end in stats["ban_windows"]:
        after = [t for t in times if t >= end]
        if after:
            gaps.append(after[0] - end)
    return {
        "delivery": result,
        "resume_after_ban": max(gaps) if gaps else float("nan"),
        "bans": len(stats["ban_windows"]),
    }


async def taps(emu: Emulator, members: int, count: int, seconds: float) -> dict[str, Any]:
    """``count`` confirmation taps within ``seconds`` while a broadcast is going out."""
    await emu.limits(30)
    await asyncio.sleep(1.5)
    await emu.reset()
    chat_ids = await _users(emu, members)
    async with temp_db() as url:
        directive_id, _ = await seed_broadcast(url, chat_ids)
        config = bot_config(emu, url, rate_per_second=30, max_in_flight=16)
        stop, started = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(config, stop, started=started))
        await started.wait()
        await asyncio.sleep(5)
        before = await emu.stats()
        delivered_chats = [int(c) for c in before["per_chat"]] or chat_ids[:1]
        await emu.control(
            "taps", users=delivered_chats, data=f"dc:{directive_id}:1", count=count, seconds=seconds
        )
        began = before["now"]
        await asyncio.sleep(seconds)
        during = await emu.stats()
        for _ in range(120):
            stats = await emu.stats()
            if stats["taps_answered"] >= count:
                break
            await asyncio.sleep(1)
        stop.set()
        await task
    sent_in_window = [t for t in during["send_times"] if began <= t <= during["now"]]
    window = during["now"] - began
    answered_in_window = during["taps_answered"]
    latencies = stats["tap_latencies"]
    return {
        "taps": count,
        "answered": stats["taps_answered"],
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "ingested_per_s": answered_in_window / window if window else 0.0,
        "broadcast_during": len(sent_in_window) / window if window else 0.0,
    }


async def crash(emu: Emulator, members: int) -> dict[str, Any]:
    """``kill -9`` at half the broadcast, restart, count what arrived."""
    await emu.limits(30)
    await asyncio.sleep(1.5)
    await emu.reset()
    chat_ids = await _users(emu, members)
    with tempfile.TemporaryDirectory(prefix="fieldbot-bench-crash-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'crash.db'}"
        await seed_broadcast(url, chat_ids)
        config = Path(folder) / "config.toml"
        config.write_text(
            f'[telegram]\ntoken = "{emu.token}"\nbase_url = "{emu.base_url}"\npoll_timeout = 1\n'
            f'[database]\nurl = "{url}"\n[logging]\nlevel = "ERROR"\n',
            encoding="utf-8",
        )
        command = [sys.executable, "-m", "bot", "--config", str(config), "run"]
        first = await asyncio.create_subprocess_exec(*command)
        await wait_delivered(emu, members // 2, within=members / 10 + 60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        killed_at = (await emu.stats())["now"]
        second = await asyncio.create_subprocess_exec(*command)
        restarted = (await emu.stats())["now"]
        stats = await wait_delivered(emu, members, within=members / 10 + 120)
        second.send_signal(signal.SIGTERM)
        await second.wait()
    after = sorted(t for t in stats["send_times"] if t > restarted)
    result = delivery(stats, chat_ids)
    return {
        "delivery": result,
        "resumed_after": (after[0] - restarted) if after else None,
        "down_for": restarted - killed_at,
    }


def ban_lengths(count: int, seed: int = 7) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(5, 30) for _ in range(count)]
