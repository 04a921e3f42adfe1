"""Run the emulator on its own: ``python -m bot.emulator --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot.emulator.limits import LimitSettings
from bot.emulator.server import BotApiEmulator


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.emulator")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="123456:EMULATOR")
    parser.add_argument("--rate", type=float, default=30.0, help="overall messages/s")
    parser.add_argument("--latency", default="0.05-0.15", help="seconds per call, min-max")
    parser.add_argument("--no-limits", action="store_true")
    args = parser.parse_args()
    # Clients that time out or are killed mid-request are part of what it emulates.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    low, _, high = args.latency.partition("-")
    emulator = BotApiEmulator(
        token=args.token,
        limits=LimitSettings(
            enabled=not args.no_limits,
            global_rate=args.rate,
            global_burst=args.rate,
            latency_min=float(low),
            latency_max=float(high or low),
        ),
    )
    await emulator.start(args.port)
    print(f"{emulator.base_url} token={emulator.token}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
