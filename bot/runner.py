"""Running the bot: the same path for ``fieldbot run``, the demo and end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from bot.app import build_application
from bot.core.clock import Clock
from bot.core.config import Config


async def serve(
    config: Config,
    stop: asyncio.Event,
    clock: Clock | None = None,
    started: asyncio.Event | None = None,
) -> None:
    """Poll for updates until ``stop`` is set, then shut down cleanly.

    Mirrors ``Application.run_polling``: initialize, post_init, start, poll; and in reverse.
    """
    app = build_application(config, clock)
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None  # noqa: S101 - the builder always makes one here
        await app.updater.start_polling(
            poll_interval=0.0,
            timeout=config.telegram.poll_timeout,
            drop_pending_updates=False,
            bootstrap_retries=-1,
        )
        if started is not None:
            started.set()
        await stop.wait()
        await app.updater.stop()
        await app.stop()
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


def run_forever(config: Config) -> None:
    """Serve until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(config, stop)

    asyncio.run(main())
