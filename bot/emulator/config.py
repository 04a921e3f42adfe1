"""A fieldbot configuration pointed at an emulator (demo, tests, benchmarks)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.core.config import Config, DatabaseConfig, OutboxConfig, TelegramConfig


def config_for_emulator(
    base_url: str,
    token: str,
    database_url: str,
    *,
    request_timeout: float = 20.0,
    **outbox: Any,
) -> Config:
    """Defaults everywhere, except the Bot API server, the database and any outbox options."""
    return replace(
        Config(),
        telegram=TelegramConfig(
            token=token,
            base_url=base_url,
            base_file_url=base_url.replace("/bot", "/file/bot"),
            poll_timeout=1,
            request_timeout=request_timeout,
        ),
        database=DatabaseConfig(url=database_url),
        outbox=replace(OutboxConfig(), **outbox),
    )
