"""The bot's username for invitation links, as the CLI learns it: from the configuration, else
from Telegram (``getMe``); when neither can give it, the operator is told why."""

from __future__ import annotations

import logging
import sys

from bot.core.config import Config
from bot.core.i18n import t

log = logging.getLogger("fieldbot")


async def _ask_telegram(config: Config) -> str | None:
    if config.telegram.bot_username:
        return config.telegram.bot_username
    if not config.telegram.token:
        return None
    from telegram import Bot

    async with Bot(config.telegram.token, base_url=config.telegram.base_url) as bot:
        return bot.username


async def bot_username(config: Config, lang: str) -> str | None:
    """The username, or None once the operator has been told why there is none."""
    from telegram.error import InvalidToken, TelegramError

    try:
        username = await _ask_telegram(config)
    except InvalidToken:  # its message carries the token
        print(t(lang, "cli.token_rejected"), file=sys.stderr)
        return None
    except TelegramError as error:  # Telegram unreachable: the username cannot be learnt now
        log.debug("could not ask Telegram for the bot's username", exc_info=True)
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        print(t(lang, "cli.telegram_unreachable", reason=reason), file=sys.stderr)
        return None
    if not username:
        print(t(lang, "cli.need_username"), file=sys.stderr)
    return username
