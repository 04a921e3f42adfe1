"""The one application factory: ``build_application(config)``.

The engine, migrations, outbox sender and scheduler start in ``post_init`` and stop in
``post_shutdown``; every handler module is registered here, explicitly.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes

from bot.context import RUNTIME_KEY, FieldbotApp, FieldbotContext, runtime_of
from bot.core.clock import Clock, SystemClock
from bot.core.config import Config
from bot.core.i18n import t
from bot.delivery.http import AiohttpRequest
from bot.delivery.outbox import OutboxSender
from bot.delivery.pacing import ChatSpacing, Pacer
from bot.delivery.ratelimit import PacedRateLimiter
from bot.runtime import Runtime
from bot.scheduler import Scheduler
from bot.services import delivery_failures, members
from bot.services.commands import GUEST
from bot.tapqueue import TapQueue
from handlers import (
    account,
    blockers,
    compose,
    deadlines,
    directives,
    fallback,
    forms,
    guard,
    initiatives,
    invites,
    long_texts,
    my_tasks,
    onboarding,
    pauses,
    rollups,
    task_form,
    task_views,
    tasks,
)
from storage.db import Database
from storage.migrate import upgrade

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 512  # updates handled at once; most of the time they wait on the network
HANDLER_MODULES = (  # the guard and long texts first (own groups); free text and fallback last
    guard,
    long_texts,
    onboarding,
    account,
    invites,
    rollups,
    directives,
    compose,
    tasks,
    my_tasks,
    task_form,
    task_views,
    deadlines,
    blockers,
    initiatives,
    pauses,
    forms,
    fallback,
)


def build_application(config: Config, clock: Clock | None = None) -> FieldbotApp:
    """A ready-to-start Application; nothing touches the network or database until it starts."""
    context_types = ContextTypes(context=FieldbotContext)
    pool = config.outbox.max_in_flight + CONCURRENT_UPDATES  # every handler may be calling
    pacer = Pacer(config.outbox.rate_per_second, config.outbox.burst)
    spacing = ChatSpacing(config.outbox.per_chat_interval, config.outbox.group_per_minute)
    builder = (
        ApplicationBuilder()
        .token(config.telegram.token)
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .context_types(context_types)
        .request(AiohttpRequest(pool, read_timeout=config.telegram.request_timeout))
        .get_updates_request(AiohttpRequest(2, read_timeout=config.telegram.poll_timeout + 10.0))
        .concurrent_updates(CONCURRENT_UPDATES)
        .rate_limiter(PacedRateLimiter(pacer, spacing))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    app = cast(FieldbotApp, builder.build())
    app.bot_data[RUNTIME_KEY] = Runtime(
        config=config,
        clock=clock or SystemClock(),
        db=cast(Database, None),
        pacer=pacer,
        spacing=spacing,
    )
    for module in HANDLER_MODULES:
        module.register(app)
    return app


async def _post_init(app: Any) -> None:
    runtime = runtime_of(app)
    config = runtime.config
    runtime.db = Database(config.database.url, config.database.echo)
    await runtime.db.reach()  # DatabaseUnreachable: the command line says it in one line
    before, after = await upgrade(runtime.db.engine)
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "empty", after)
    runtime.bot_username = config.telegram.bot_username or app.bot.username
    try:
        await app.bot.set_my_commands(
            [BotCommand(name, t(config.default_language, f"commands.{name}")) for name in GUEST]
        )
    except TelegramError:  # menus are a convenience; the bot works without them
        log.warning("could not set the default command menu", exc_info=True)
    runtime.sender = OutboxSender(
        runtime.db,
        app.bot,
        runtime.clock,
        config.outbox,
        runtime.pacer,
        runtime.spacing,
        lambda session, member_id, reason: members.mark_unreachable(
            session, runtime.clock, member_id, reason
        ),
        lambda session, member_id, reason, row_id: delivery_failures.report_rejected(
            session, runtime.clock, member_id, reason, row_id
        ),
    )
    await runtime.sender.start()
    runtime.taps = TapQueue(runtime.db, runtime.clock, config.tz)
    runtime.taps.start()
    runtime.scheduler = Scheduler(runtime.db, runtime.clock, config, runtime.wake_sender)
    runtime.scheduler.start()
    await long_texts.joiner(app).release_all()
    log.info("fieldbot started as @%s", runtime.bot_username)


async def _post_stop(app: Any) -> None:
    """After the last update is handled, before the bot's HTTP session closes: the sender
    finishes the calls it has under way and records them, so a restart repeats nothing."""
    runtime = runtime_of(app)
    long_texts.joiner(app).stop()  # parts still held wait in the database for the next start
    if runtime.scheduler is not None:
        await runtime.scheduler.stop()
        runtime.scheduler = None
    if runtime.taps is not None:
        await runtime.taps.stop()
        runtime.taps = None
    if runtime.sender is not None:
        await runtime.sender.stop()
        runtime.sender = None


async def _post_shutdown(app: Any) -> None:
    await _post_stop(app)  # a start that failed half-way never reached post_stop
    runtime = runtime_of(app)
    if runtime.db is not None:
        await runtime.db.dispose()


__all__ = ["build_application", "runtime_of"]
