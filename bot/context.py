"""A typed CallbackContext: handlers reach the runtime as ``context.runtime``."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.runtime import Runtime

RUNTIME_KEY = "runtime"


class FieldbotContext(
    CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    # One context serves every handler group of an update, so what the guard (group -1)
    # learns here reaches the handlers after it.
    user_language: str | None = None  # Telegram's language for the user, when it is one of ours

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.application.bot_data[RUNTIME_KEY]
        return runtime


FieldbotApp = Application[
    ExtBot[None], FieldbotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
