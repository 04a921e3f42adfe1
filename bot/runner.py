"""Running the bot: the same path for ``fieldbot run``, the demo and end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram.error import InvalidToken, NetworkError

from bot.app import build_application
from bot.context import FieldbotApp
from bot.core.clock import Clock
from bot.core.config import Config

log = logging.getLogger(__name__)

FIRST_RETRY = 1.0  # seconds before the first new try to reach the Bot API; doubled each time
LAST_RETRY = 30.0


async def _reach_bot_api(app: FieldbotApp, config: Config, stop: asyncio.Event) -> bool:
    """``app.initialize()`` (it calls getMe), retried with back-off while the Bot API is down.

    Returns False if asked to stop meanwhile. A rejected token is not retried: it raises.
    """
    delay = FIRST_RETRY
    while True:
        try:
            await app.initialize()
            return True
        except InvalidToken:
            await app.bot.shutdown()
            raise
        except NetworkError as error:  # refused, timed out, 5xx: the server may be starting
            log.warning(
                "Bot API at %s is not reachable (%s); trying again in %.0fs",
                config.telegram.base_url,
                error.__class__.__name__,
                delay,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            await app.bot.shutdown()  # the HTTP sessions opened for the tries
            log.info("stopped before the Bot API could be reached")
            return False
        delay = min(LAST_RETRY, delay * 2)


async def serve(
    config: Config,
    stop: asyncio.Event,
    clock: Clock | None = None,
    started: asyncio.Event | None = None,
) -> None:
    """Poll for updates until ``stop`` is set, then shut down cleanly.

    Mirrors ``Application.run_polling``: initialize, post_init, start, poll; and in reverse
    (stop polling, stop, post_stop, shutdown, post_shutdown).
    An unreachable Bot API at start is retried with back-off until it answers or ``stop`` is set.
    """
    app = build_application(config, clock)
    if not await _reach_bot_api(app, config, stop):
        return
    assert app.updater is not None  # noqa: S101 - the builder always makes one here
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        await app.updater.start_polling(
            poll_interval=0.0,
            timeout=config.telegram.poll_timeout,
            drop_pending_updates=False,
            bootstrap_retries=-1,
        )
        if started is not None:
            started.set()
        await stop.wait()
    finally:
        # The order of a clean stop: no new updates, the ones in hand handled, then the
        # sender's calls under way finished and recorded (post_stop), and only then the
        # HTTP session closed (shutdown) — a call cut off there would be sent again.
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
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
