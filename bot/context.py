"""A typed CallbackContext: handlers reach the runtime as ``context.runtime``."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.runtime import Runtime

RUNTIME_KEY = "runtime"


class FieldbotContext(
    CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    # One context serves every handler group of an update, so what the guard (group -2)
    # learns here reaches the handlers after it.
    user_language: str | None = None  # Telegram's language for the user, when it is one of ours

    @property
    def runtime(self) -> Runtime:
        return runtime_of(self.application)


FieldbotApp = Application[
    ExtBot[None], FieldbotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]


def runtime_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Runtime:
    """The runtime of a running application (for what holds the application, not a context)."""
    runtime: Runtime = app.bot_data[RUNTIME_KEY]
    return runtime
