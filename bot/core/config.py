"""Configuration: one TOML file turned into one frozen, validated object.

Every option has a default documented in ``config.example.toml``. Secrets may come
from the environment (``FIELDBOT_TOKEN``) so they need not sit in the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.parsing import parse_duration

LANGUAGES = ("vi", "en")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/fieldbot.db"
CONFIG_ENV = "FIELDBOT_CONFIG"
TOKEN_ENV = "FIELDBOT_TOKEN"
DATABASE_URL_ENV = "FIELDBOT_DATABASE_URL"


class ConfigError(Exception):
    """An invalid option; ``key`` names it the way it is written in the file."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str = ""
    poll_timeout: int = 30
    request_timeout: float = 20.0


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = DEFAULT_DATABASE_URL
    echo: bool = False


@dataclass(frozen=True)
class OnboardingConfig:
    invite_ttl: timedelta = timedelta(days=7)
    max_attempts: int = 5
    attempt_window: timedelta = timedelta(minutes=10)
    qr_dir: str = "data/qr"


@dataclass(frozen=True)
class OutboxConfig:
    rate_per_second: float = 30.0
    burst: int = 5
    per_chat_interval: float = 1.05
    group_per_minute: int = 20
    max_in_flight: int = 16
    poll_interval: float = 0.2
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_max: float = 300.0


@dataclass(frozen=True)
class RemindersConfig:
    """The scheduler's sweeps; the task settings may be overridden per plan."""

    enabled: bool = True
    sweep_interval: timedelta = timedelta(seconds=30)
    task_offsets: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1), timedelta(hours=2))
    overdue_every: timedelta = timedelta(days=1)
    directive_every: timedelta = timedelta(hours=12)
    escalate_after: timedelta = timedelta(hours=2)
    escalate_every: timedelta = timedelta(days=1)
    quiet_start: time = time(21, 30)
    quiet_end: time = time(6, 30)
    digest_time: time = time(7, 0)


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"


@dataclass(frozen=True)
class Config:
    timezone: str = "Asia/Ho_Chi_Minh"
    default_language: str = "vi"
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    onboarding: OnboardingConfig = field(default_factory=OnboardingConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_SECTIONS: dict[str, type] = {
    "telegram": TelegramConfig,
    "database": DatabaseConfig,
    "onboarding": OnboardingConfig,
    "outbox": OutboxConfig,
    "reminders": RemindersConfig,
    "logging": LoggingConfig,
}


def parse_durations(key: str, value: Any) -> tuple[timedelta, ...]:
    """A list of durations (``["3d", "1d", "2h"]``), longest first, none repeated."""
    if not isinstance(value, list) or not value:
        raise ConfigError(key, 'expected a list of durations such as ["3d", "1d", "2h"]')
    items = {_coerce(key, item, timedelta(0)) for item in value}
    if any(item <= timedelta(0) for item in items):
        raise ConfigError(key, "every duration must be positive")
    return tuple(sorted(items, reverse=True))


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Turn a TOML value into the type of the default, or raise ConfigError."""
    if isinstance(default, tuple):
        return parse_durations(key, value)
    if isinstance(default, time):
        if isinstance(value, time):
            return value.replace(second=0, microsecond=0)
        if isinstance(value, str):
            try:
                return time.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ConfigError(key, 'expected a local time such as "21:30"')
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(key, "expected true or false")
        return value
    if isinstance(default, timedelta):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return timedelta(seconds=value)
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except ValueError as exc:
                raise ConfigError(key, str(exc)) from None
        raise ConfigError(key, "expected a duration such as 10m or 7d")
    if isinstance(default, int) and not isinstance(default, bool):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(key, "expected a whole number")
        return value
    if isinstance(default, float):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(key, "expected a number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(key, "expected a string")
        return value
    raise ConfigError(key, "unsupported option")  # pragma: no cover - guards new fields


def _build_section(name: str, cls: type, raw: Any) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(name, "expected a table, e.g. [" + name + "]")
    defaults = cls()
    known = {f.name for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{name}.{key}", "unknown option")
        values[key] = _coerce(f"{name}.{key}", value, getattr(defaults, key))
    return replace(defaults, **values)


def _validate(config: Config) -> None:
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("timezone", f"unknown time zone {config.timezone!r}") from None
    if config.default_language not in LANGUAGES:
        raise ConfigError("default_language", f"must be one of {', '.join(LANGUAGES)}")
    tg = config.telegram
    for key in ("base_url", "base_file_url"):
        if not getattr(tg, key).startswith(("http://", "https://")):
            raise ConfigError(f"telegram.{key}", "must start with http:// or https://")
    if not 1 <= tg.poll_timeout <= 50:
        raise ConfigError("telegram.poll_timeout", "must be 1 to 50 seconds")
    if tg.request_timeout <= 0:
        raise ConfigError("telegram.request_timeout", "must be positive")
    if not config.database.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "database.url", "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
        )
    ob = config.onboarding
    if ob.max_attempts < 1:
        raise ConfigError("onboarding.max_attempts", "must be at least 1")
    if ob.invite_ttl <= timedelta(0):
        raise ConfigError("onboarding.invite_ttl", "must be positive")
    out = config.outbox
    if out.rate_per_second <= 0:
        raise ConfigError("outbox.rate_per_second", "must be positive")
    if out.burst < 1:
        raise ConfigError("outbox.burst", "must be at least 1")
    if out.max_in_flight < 1:
        raise ConfigError("outbox.max_in_flight", "must be at least 1")
    rem = config.reminders
    if not timedelta(seconds=5) <= rem.sweep_interval <= timedelta(minutes=10):
        raise ConfigError("reminders.sweep_interval", "must be 5s to 10m")
    for key in ("overdue_every", "directive_every", "escalate_every"):
        if getattr(rem, key) < timedelta(minutes=10):
            raise ConfigError(f"reminders.{key}", "must be at least 10m")
    if rem.escalate_after < timedelta(0):
        raise ConfigError("reminders.escalate_after", "must not be negative")
    if config.logging.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("logging.level", "use DEBUG, INFO, WARNING or ERROR")


PLAN_REMINDER_OPTIONS = ("task_offsets", "overdue_every", "escalate_after", "escalate_every")


def reminders_for_plan(base: RemindersConfig, overrides: Mapping[str, Any]) -> RemindersConfig:
    """``base`` with a plan's own reminder settings (``plans.settings["reminders"]``) applied."""
    if not isinstance(overrides, Mapping):
        raise ConfigError("reminders", "expected a table of reminder options")
    values = {}
    for key, value in overrides.items():
        if key not in PLAN_REMINDER_OPTIONS:
            raise ConfigError(f"reminders.{key}", "cannot be set per plan")
        values[key] = _coerce(f"reminders.{key}", value, getattr(base, key))
    chosen = replace(base, **values)
    _validate(replace(Config(), reminders=chosen))
    return chosen


def config_from_mapping(raw: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Config:
    """Build and validate a Config from parsed TOML plus environment overrides."""
    env = os.environ if env is None else env
    top: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    defaults = Config()
    for key, value in raw.items():
        if key in _SECTIONS:
            sections[key] = _build_section(key, _SECTIONS[key], value)
        elif key in ("timezone", "default_language"):
            top[key] = _coerce(key, value, getattr(defaults, key))
        else:
            raise ConfigError(key, "unknown option")
    config = replace(defaults, **top, **sections)
    if env.get(TOKEN_ENV):
        config = replace(config, telegram=replace(config.telegram, token=env[TOKEN_ENV]))
    if env.get(DATABASE_URL_ENV):
        config = replace(config, database=replace(config.database, url=env[DATABASE_URL_ENV]))
    _validate(config)
    return config


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the file named by ``path``, else ``$FIELDBOT_CONFIG``, else ``./config.toml``.

    A missing default file means "all defaults"; a missing file that was asked for is an error.
    """
    explicit = path or os.environ.get(CONFIG_ENV)
    file = Path(explicit or "config.toml")
    if not file.exists():
        if explicit:
            raise ConfigError("--config", f"file not found: {file}")
        return config_from_mapping({})
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(file), f"not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(str(file), "not UTF-8 text") from None
    return config_from_mapping(raw)
