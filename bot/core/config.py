"""Configuration: one TOML file turned into one frozen, validated object.

Every option has a default and an allowed range, both documented in ``config.example.toml``.
The sections are pydantic dataclasses: the whole file is checked at once (unknown keys, wrong
types, NaN, infinities, numbers out of range, malformed URLs) and so is every section made in
code or by ``dataclasses.replace``. The first problem becomes one ``ConfigError`` naming the key
and what it accepts. Secrets may come from the environment (``FIELDBOT_TOKEN``,
``FIELDBOT_DATABASE_URL``) so they need not sit in the file; they are never repeated in errors.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import field, fields, replace
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, ConfigDict, TypeAdapter, ValidationError, ValidationInfo
from pydantic import field_validator as _field_validator
from pydantic.dataclasses import dataclass

from bot.core.parsing import MAX_DURATION, ParseError, format_duration, parse_duration

LANGUAGES = ("vi", "en")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/fieldbot.db"
CONFIG_ENV = "FIELDBOT_CONFIG"
TOKEN_ENV = "FIELDBOT_TOKEN"
DATABASE_URL_ENV = "FIELDBOT_DATABASE_URL"
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_RULES = ConfigDict(extra="forbid", allow_inf_nan=False)


class ConfigError(Exception):
    """An invalid option; ``key`` names it the way it is written in the file."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


# -- value checks: each names what it accepts, never echoes the value (it may be a secret) ----
def _number(low: float, high: float, *, whole: bool = False, above: bool = False) -> Any:
    """A finite number in ``low..high`` (``above``: strictly more than ``low``)."""
    kind = "a whole number" if whole else "a number"
    span = f"more than {low} and at most {high}" if above else f"from {low} to {high}"

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
            raise ValueError(f"expected {kind} {span}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"expected {kind} {span}")
        if value > high or value < low or (above and value == low):  # ints compared exactly
            raise ValueError(f"expected {kind} {span}")
        return value if whole else float(value)

    return BeforeValidator(check)


def _to_duration(value: Any, low: timedelta, high: timedelta) -> timedelta:
    if isinstance(value, timedelta):
        delta = value
    elif isinstance(value, int) and not isinstance(value, bool):
        delta = parse_duration(str(value), low=low, high=high) if value >= 0 else -timedelta(1)
    elif isinstance(value, str) and value.strip():
        delta = parse_duration(value, low=low, high=high)  # raises ParseError, a ValueError
    else:
        delta = -timedelta(1)  # the wrong kind of value: reported below like one out of range
    if not low <= delta <= high:
        raise ParseError("out of range")
    return delta


def _duration(low: timedelta, high: timedelta = MAX_DURATION) -> Any:
    """A duration such as ``"10m"`` or ``"7d"`` (or whole seconds), within ``low..high``."""
    span = f"from {format_duration(low)} to {format_duration(high)}"
    if low == timedelta(0):
        span = f"at most {format_duration(high)}"
    elif high == MAX_DURATION:
        span = f"at least {format_duration(low)}"

    def check(value: Any) -> timedelta:
        try:
            return _to_duration(value, low, high)
        except ParseError:
            raise ValueError(f"must be {span} (a duration such as 10m, 2h or 7d)") from None

    return BeforeValidator(check)


def _text(pattern: str = r".*", hint: str = "a string", *, secret: bool = False) -> Any:
    regex = re.compile(pattern, re.DOTALL)

    def check(value: Any) -> str:
        if not isinstance(value, str) or "\x00" in value or not regex.fullmatch(value):
            raise ValueError(f"expected {hint}" if not secret else f"expected {hint} (not shown)")
        return value

    return BeforeValidator(check)


def _url(value: Any) -> str:
    hint = "an http:// or https:// URL with a host, e.g. https://api.telegram.org/bot"
    if not isinstance(value, str) or any(c.isspace() or c == "\x00" for c in value):
        raise ValueError(hint)
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is not a number in 1..65535 raises here
    except ValueError:
        raise ValueError(hint) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(hint)
    return value


def _database_url(value: Any) -> str:
    hint = "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
    if not isinstance(value, str) or not value or any(c.isspace() or c == "\x00" for c in value):
        raise ValueError(f"use {hint}")
    from sqlalchemy.engine import make_url  # imported here: only the check needs it
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
        _ = url.port
    except (ArgumentError, ValueError):
        raise ValueError(f"use {hint}") from None  # the URL may hold a password: not repeated
    if url.drivername not in DATABASE_DRIVERS:
        raise ValueError(f"use {hint}")
    return value


def _clock_time(value: Any) -> time:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # reported below, with what is expected
            value = time.fromisoformat(value.strip())
    if not isinstance(value, time) or value.tzinfo is not None:
        raise ValueError('expected a local time such as "21:30"')
    return value.replace(second=0, microsecond=0)


def _offsets(value: Any) -> tuple[timedelta, ...]:
    """A list of durations (``["3d", "1d", "2h"]``), longest first, none repeated."""
    hint = 'expected a list of durations such as ["3d", "1d", "2h"] (1 to 20, each 1m to 365d)'
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= 20:
        raise ValueError(hint)
    try:
        items = {_to_duration(item, timedelta(minutes=1), timedelta(days=365)) for item in value}
    except ParseError:
        raise ValueError(hint) from None
    return tuple(sorted(items, reverse=True))


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(value)
    except Exception:  # not found, a path, not a string: all mean "no such zone"
        raise ValueError("expected an IANA time zone such as Asia/Ho_Chi_Minh") from None
    return str(value)


def _level(value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
        raise ValueError("use DEBUG, INFO, WARNING or ERROR")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


Flag = Annotated[bool, BeforeValidator(_flag)]
Url = Annotated[str, BeforeValidator(_url)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]


# -- the sections ------------------------------------------------------------------------------
@dataclass(frozen=True, config=_RULES)
class TelegramConfig:
    token: Annotated[
        str, _text(r"|[0-9]{1,20}:[A-Za-z0-9_-]{1,200}", "a token from @BotFather", secret=True)
    ] = ""
    base_url: Url = "https://api.telegram.org/bot"
    base_file_url: Url = "https://api.telegram.org/file/bot"
    bot_username: Annotated[str, _text(r"|[A-Za-z0-9_]{3,32}", "a @username without @")] = ""
    poll_timeout: Annotated[int, _number(1, 50, whole=True)] = 30
    request_timeout: Annotated[float, _number(0.1, 600)] = 20.0


@dataclass(frozen=True, config=_RULES)
class DatabaseConfig:
    url: Annotated[str, BeforeValidator(_database_url)] = DEFAULT_DATABASE_URL
    echo: Flag = False


@dataclass(frozen=True, config=_RULES)
class OnboardingConfig:
    invite_ttl: Annotated[timedelta, _duration(timedelta(minutes=1), timedelta(days=365))] = (
        timedelta(days=7)
    )
    max_attempts: Annotated[int, _number(1, 1000, whole=True)] = 5
    # Wrong codes from everyone together within attempt_window; beyond it no code is checked.
    max_attempts_overall: Annotated[int, _number(1, 1_000_000, whole=True)] = 200
    attempt_window: Annotated[timedelta, _duration(timedelta(seconds=10), timedelta(days=1))] = (
        timedelta(minutes=10)
    )
    qr_dir: Annotated[str, _text(r".*\S.*", "a folder path")] = "data/qr"


@dataclass(frozen=True, config=_RULES)
class OutboxConfig:
    rate_per_second: Annotated[float, _number(0, 10_000, above=True)] = 30.0
    burst: Annotated[int, _number(1, 10_000, whole=True)] = 5
    per_chat_interval: Annotated[float, _number(0, 60)] = 1.05
    group_per_minute: Annotated[int, _number(1, 1000, whole=True)] = 20
    max_in_flight: Annotated[int, _number(1, 1000, whole=True)] = 16
    poll_interval: Annotated[float, _number(0.01, 60)] = 0.2
    max_attempts: Annotated[int, _number(1, 100, whole=True)] = 8
    backoff_base: Annotated[float, _number(0.01, 3600)] = 1.0
    backoff_max: Annotated[float, _number(0.01, 86_400)] = 300.0

    @_field_validator("backoff_max")
    @classmethod
    def _not_below_base(cls, value: float, info: ValidationInfo) -> float:
        base = info.data.get("backoff_base")
        if base is not None and value < base:
            raise ValueError("must not be less than outbox.backoff_base")
        return value


@dataclass(frozen=True, config=_RULES)
class RemindersConfig:
    """The scheduler's sweeps; the task settings may be overridden per plan."""

    enabled: Flag = True
    sweep_interval: Annotated[timedelta, _duration(timedelta(seconds=5), timedelta(minutes=10))] = (
        timedelta(seconds=30)
    )
    task_offsets: Annotated[tuple[timedelta, ...], BeforeValidator(_offsets)] = (
        timedelta(days=3),
        timedelta(days=1),
        timedelta(hours=2),
    )
    overdue_every: Annotated[timedelta, _duration(timedelta(minutes=10))] = timedelta(days=1)
    directive_every: Annotated[timedelta, _duration(timedelta(minutes=10))] = timedelta(hours=12)
    # Hỏa tốc directives: re-reminded this often, quiet hours or not.
    flash_remind_every: Annotated[timedelta, _duration(timedelta(minutes=5))] = timedelta(
        minutes=30
    )
    escalate_after: Annotated[timedelta, _duration(timedelta(0))] = timedelta(hours=2)
    escalate_every: Annotated[timedelta, _duration(timedelta(minutes=10))] = timedelta(days=1)
    quiet_start: ClockTime = time(21, 30)
    quiet_end: ClockTime = time(6, 30)
    digest_time: ClockTime = time(7, 0)


@dataclass(frozen=True, config=_RULES)
class LoggingConfig:
    level: Annotated[str, BeforeValidator(_level)] = "INFO"


@dataclass(frozen=True, config=_RULES)
class Config:
    timezone: Annotated[str, BeforeValidator(_timezone)] = "Asia/Ho_Chi_Minh"
    default_language: Literal["vi", "en"] = "vi"
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    onboarding: OnboardingConfig = field(default_factory=OnboardingConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_SECTIONS = {f.name for f in fields(Config)} - {"timezone", "default_language"}
_READ = TypeAdapter(Config)


def config_error(error: ValidationError, prefix: str = "") -> ConfigError:
    """The first problem pydantic found, as one line: the key as written, what it accepts."""
    first = error.errors(include_url=False, include_input=False)[0]
    key = prefix + ".".join(str(part) for part in first["loc"] if not isinstance(part, int))
    kind = first["type"]
    if kind == "unexpected_keyword_argument":
        return ConfigError(key, "unknown option")
    if kind in ("dataclass_type", "dataclass_args_type"):
        return ConfigError(key or "config", f"expected a table, e.g. [{key or 'telegram'}]")
    if kind == "literal_error" and key == "default_language":
        return ConfigError(key, f"must be one of {', '.join(LANGUAGES)}")
    message = str(first["msg"]).removeprefix("Value error, ")
    return ConfigError(key or "config", message)


PLAN_REMINDER_OPTIONS = ("task_offsets", "overdue_every", "escalate_after", "escalate_every")


def parse_durations(key: str, value: Any) -> tuple[timedelta, ...]:
    """A list of durations (``["3d", "1d", "2h"]``), longest first, none repeated."""
    try:
        return _offsets(value)
    except ValueError as exc:
        raise ConfigError(key, str(exc)) from None


def reminders_for_plan(base: RemindersConfig, overrides: Mapping[str, Any]) -> RemindersConfig:
    """``base`` with a plan's own reminder settings (``plans.settings["reminders"]``) applied."""
    if not isinstance(overrides, Mapping):
        raise ConfigError("reminders", "expected a table of reminder options")
    for key in overrides:
        if key not in PLAN_REMINDER_OPTIONS:
            raise ConfigError(f"reminders.{key}", "cannot be set per plan")
    try:
        return replace(base, **dict(overrides))
    except ValidationError as error:
        raise config_error(error, "reminders.") from None


def _with_environment(raw: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    merged = dict(raw)
    for variable, section, key in (
        (TOKEN_ENV, "telegram", "token"),
        (DATABASE_URL_ENV, "database", "url"),
    ):
        value = env.get(variable)
        table = merged.get(section, {})
        if value and isinstance(table, Mapping):
            merged[section] = {**table, key: value}
    return merged


def config_from_mapping(raw: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Config:
    """Build and validate a Config from parsed TOML plus environment overrides."""
    env = os.environ if env is None else env
    if not isinstance(raw, Mapping):
        raise ConfigError("config", "expected TOML tables and options")
    try:
        return _READ.validate_python(_with_environment(raw, env))
    except ValidationError as error:
        raise config_error(error) from None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the file named by ``path``, else ``$FIELDBOT_CONFIG``, else ``./config.toml``.

    A missing default file means "all defaults"; a missing file that was asked for is an error.
    """
    explicit = path or os.environ.get(CONFIG_ENV)
    file = Path(explicit or "config.toml")
    try:
        if not file.exists():
            if explicit:
                raise ConfigError("--config", f"file not found: {file}")
            return config_from_mapping({})
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(str(file), "not UTF-8 text") from None
    except (OSError, ValueError) as exc:  # a folder, unreadable, a NUL in the path
        raise ConfigError("--config", f"cannot read {file}: {exc.__class__.__name__}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(file), f"not valid TOML: {exc}") from None
    return config_from_mapping(raw)


__all__ = [
    "DEFAULT_DATABASE_URL",
    "LANGUAGES",
    "PLAN_REMINDER_OPTIONS",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "LoggingConfig",
    "OnboardingConfig",
    "OutboxConfig",
    "RemindersConfig",
    "TelegramConfig",
    "config_from_mapping",
    "load_config",
    "reminders_for_plan",
]
