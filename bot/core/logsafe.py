"""Logs that never show a secret: the bot token, invitation codes, database passwords.

One filter, installed on every handler where logging is set up (``bot.cli.main``), rewrites
each record before any handler formats it: the message with its arguments, the exception text
and the stack. Handlers see records from every logger, python-telegram-bot's, aiohttp's and
httpx's included, so a token in a Bot API URL logged at DEBUG, in an ``InvalidToken``
traceback, or a ``/start CODE`` in a raw update is caught wherever it was logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "[redacted]"

# A Bot API token: the bot's numeric id, a colon, and 30 or more URL-safe characters.
_TOKEN = re.compile(r"(?<![0-9])[0-9]{3,20}:[A-Za-z0-9_-]{30,}")
# /start CODE as typed or forwarded, and ?start=CODE / &startgroup=CODE in deep links.
_START = re.compile(r"(/start(?:@\w+)?[ \t]+|[?&]start(?:group)?=)([A-Za-z0-9_-]{1,64})")
# user:password@ in any URL (database, proxies).
_PASSWORD = re.compile(r"(\w[\w+.-]*://[^:/@\s]*:)([^@\s]+)(@)")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets and everything shaped like a secret masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _TOKEN.sub(MASK, text)
    text = _START.sub(lambda m: m.group(1) + MASK, text)
    return _PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)


class RedactingFilter(logging.Filter):
    """Rewrites a record in place so no handler, whatever its format, can print a secret."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):  # the same record reaches several handlers
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format: keep what can be shown, never the raw args
            message = f"{record.msg} (arguments not shown)"
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        record._redacted = True
        return True


def install(secrets: Iterable[str] = ()) -> RedactingFilter:
    """Put one filter on every handler that exists now (root and named loggers).

    A filter installed before (another run in the same process) is replaced, so the secrets of
    the configuration now in use are the ones masked.
    """
    guard = RedactingFilter(secrets)
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
                handler.removeFilter(old)
            handler.addFilter(guard)
    return guard
