"""``make bench`` (``python -m bench``): every scenario with fieldbot and the peer side by side.

The full-size run (10,000 members, 50,000 taps) takes about an hour; ``--quick`` runs the same
scenarios at a tenth of the size. Figures go to stdout and bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from bench import fortnight, rollup, scenarios, sweep, views
from bench.harness import emulator_process, national_tree, temp_db

RESULTS = Path(__file__).parent / "results"
SCENARIOS = (
    "import",
    "rollup",
    "views",
    "sweep",
    "fortnight",
    "broadcast",
    "raised",
    "storm",
    "taps",
    "crash",
)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


async def _import_units(count: int) -> float:
    from bot.core.clock import SystemClock
    from bot.services.authz import Actor
    from bot.services.units import import_units
    from storage.db import Database
    from storage.migrate import upgrade

    async with temp_db() as url:
        db = Database(url)
        await upgrade(db.engine)
        started = time.perf_counter()
        async with db.session() as session:
            await import_units(session, SystemClock(), Actor.system(), national_tree(count))
        elapsed = time.perf_counter() - started
        await db.dispose()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="a tenth of the full size")
    parser.add_argument("--members", type=int, default=None, help="override the broadcast size")
    parser.add_argument("--no-peer", action="store_true", help="skip the peer runs")
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help=", ".join(SCENARIOS),
    )
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("telegram").setLevel(logging.CRITICAL)  # the peer logs every drop
    logging.getLogger("aiohttp").setLevel(logging.CRITICAL)
    scale = 10 if args.quick else 1
    members = args.members or 10_000 // scale
    wanted = set(args.only or SCENARIOS)
    results: dict[str, Any] = {"members": members}

    def show(name: str, value: Any) -> None:
        results[name] = _plain(value)
        text = value.row() if hasattr(value, "row") else json.dumps(_plain(value), default=str)
        print(f"{name:32s} {text}", flush=True)

    if "import" in wanted:
        show("import_10000_units_seconds", round(await _import_units(10_000), 2))
    if "rollup" in wanted:
        async with temp_db() as url:
            show("rollup_10000x50", await rollup.rollup(url, 10_000 // scale))
    if "views" in wanted:
        async with temp_db() as url:
            show("views_10000x50/sqlite", await views.views(url, 10_000 // scale))
        base = os.environ.get("FIELDBOT_BENCH_DATABASE_URL")
        if base:
            async with temp_db(base) as url:
                show("views_10000x50/postgresql", await views.views(url, 10_000 // scale))
    if "sweep" in wanted:
        async with temp_db() as url:
            show("sweep_10000x50", await sweep.sweep(url, 10_000 // scale))
    if "fortnight" in wanted:  # the same size at --quick: it is a day-to-day scenario
        async with temp_db() as url:
            show("fortnight", await fortnight.fortnight(url))
    async with emulator_process() as emu:
        if "broadcast" in wanted:
            fb = await scenarios.fieldbot_broadcast(emu, members, 30)
            show("broadcast_30/fieldbot", fb["delivery"])
            show("broadcast_30/enqueue_seconds", round(fb["enqueue_seconds"], 2))
            if not args.no_peer:
                show(
                    "broadcast_30/peer_gather",
                    await scenarios.peer_broadcast(emu, members, 30, gather=True),
                )
                show(
                    "broadcast_30/peer_sequential",
                    await scenarios.peer_broadcast(emu, min(members, 600), 30, gather=False),
                )
        if "raised" in wanted:
            show(
                "broadcast_1000/fieldbot",
                (await scenarios.fieldbot_broadcast(emu, members, 1000))["delivery"],
            )
            if not args.no_peer:
                # The peer gathers every send at once; with 10,000 queued requests httpx's pool
                # spends its time scanning itself, so it is measured on at most 2,000.
                show(
                    "broadcast_1000/peer_gather",
                    await scenarios.peer_broadcast(emu, min(members, 2000), 1000, gather=True),
                )
        if "storm" in wanted:
            bans = scenarios.ban_lengths(3)
            storm_members = 3000 // scale
            show("storm/fieldbot", await scenarios.storm(emu, storm_members, bans, peer=False))
            if not args.no_peer:
                show(
                    "storm/peer_gather", await scenarios.storm(emu, storm_members, bans, peer=True)
                )
        if "taps" in wanted:
            show("taps/fieldbot", await scenarios.taps(emu, members, 50_000 // scale, 60 / scale))
        if "crash" in wanted:
            show("crash/fieldbot", await scenarios.crash(emu, 3000 // scale))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
