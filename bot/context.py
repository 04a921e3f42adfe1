"""A typed CallbackContext: handlers reach the runtime as ``context.runtime``."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.runtime import Runtime

RUNTIME_KEY = "runtime"


class FieldbotContext(
    CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.application.bot_data[RUNTIME_KEY]
        return runtime


FieldbotApp = Application[
    ExtBot[None], FieldbotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
