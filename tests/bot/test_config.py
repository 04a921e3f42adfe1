from dataclasses import fields
from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.config import DEFAULT_DATABASE_URL, ConfigError, config_from_mapping, load_config

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def test_defaults_when_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FIELDBOT_CONFIG", raising=False)
    monkeypatch.delenv("FIELDBOT_TOKEN", raising=False)
    config = load_config()
    assert config.timezone == "Asia/Ho_Chi_Minh"
    assert config.default_language == "vi"
    assert config.database.url == DEFAULT_DATABASE_URL
    assert config.onboarding.invite_ttl == timedelta(days=7)
    assert config.outbox.rate_per_second == 30


def test_example_file_is_valid_and_documents_every_default() -> None:
    config = load_config(EXAMPLE)
    assert config == config_from_mapping({}, env={})
    text = EXAMPLE.read_text(encoding="utf-8")
    for section in ("telegram", "database", "onboarding", "outbox", "reminders", "logging"):
        assert f"[{section}]" in text
        for option in fields(getattr(config, section)):
            assert f"\n{option.name} = " in text, f"{section}.{option.name} is not documented"


def test_token_from_environment_wins() -> None:
    raw = {"telegram": {"token": "1:from-file"}}
    config = config_from_mapping(raw, env={"FIELDBOT_TOKEN": "2:from-env"})
    assert config.telegram.token == "2:from-env"


def test_durations_and_numbers_are_parsed() -> None:
    config = config_from_mapping(
        {"onboarding": {"invite_ttl": "36h", "attempt_window": 120}}, env={}
    )
    assert config.onboarding.invite_ttl == timedelta(hours=36)
    assert config.onboarding.attempt_window == timedelta(minutes=2)


def test_reminder_settings_are_parsed() -> None:
    raw = {
        "reminders": {
            "task_offsets": ["2h", "7d", "2h"],
            "quiet_start": "22:00",
            "quiet_end": time(6, 0),
            "digest_time": "07:30",
            "enabled": False,
        }
    }
    rem = config_from_mapping(raw, env={}).reminders
    assert rem.task_offsets == (timedelta(days=7), timedelta(hours=2))
    assert (rem.quiet_start, rem.quiet_end, rem.digest_time) == (time(22), time(6), time(7, 30))
    assert rem.enabled is False


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"default_language": "fr"}, "default_language"),
        ({"telegram": {"base_url": "ftp://x"}}, "telegram.base_url"),
        ({"telegram": {"tokn": "x"}}, "telegram.tokn"),
        ({"database": {"url": "mysql://x"}}, "database.url"),
        ({"outbox": {"rate_per_second": "fast"}}, "outbox.rate_per_second"),
        ({"outbox": {"burst": 0}}, "outbox.burst"),
        ({"onboarding": {"invite_ttl": "soon"}}, "onboarding.invite_ttl"),
        ({"onboarding": {"max_attempts": True}}, "onboarding.max_attempts"),
        ({"telegram": "not a table"}, "telegram"),
        ({"reminders": {"task_offsets": "3d"}}, "reminders.task_offsets"),
        ({"reminders": {"task_offsets": ["3d", "0s"]}}, "reminders.task_offsets"),
        ({"reminders": {"quiet_start": "late"}}, "reminders.quiet_start"),
        ({"reminders": {"sweep_interval": "1s"}}, "reminders.sweep_interval"),
        ({"reminders": {"overdue_every": "5m"}}, "reminders.overdue_every"),
        ({"reminders": {"escalate_after": -5}}, "reminders.escalate_after"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_option_names_the_key(raw: dict, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(raw, env={})
    assert caught.value.key == key


def test_invalid_config_stops_the_cli_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('timezone = "Nowhere/Land"\n', encoding="utf-8")
    assert main(["--config", str(bad), "units", "list"]) == 2
    err = capsys.readouterr().err
    assert "timezone" in err
    assert err.count("\n") == 1  # one clear line


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    assert caught.value.key == "--config"


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[telegram\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


# -- a hostile configuration: every key, every kind of nonsense --------------------------------
HOSTILE = {
    "wrong type": ['"many"', "true", "[]", "{}", "[1, 2]"],
    "not a number": ["nan", "inf", "-inf", "+nan"],
    "out of range": ["-1", "-0.5", "0", "1e308", "99999999999999999", "-99999999999999999"],
    "empty or bad text": ['""', '"   "', '"http://"', '"ftp://host"', '"https://:99999"'],
    "durations": ['"-5m"', '"99999999999d"', '"0s"', '"soon"', '"5 minutes"', "1.5"],
}
# (option, TOML value) that are legitimately allowed among the hostile values above.
FLOATS = ("request_timeout", "rate_per_second", "per_chat_interval", "poll_interval", "backoff_")
ALLOWED = {
    ("telegram.token", '""'),
    ("telegram.bot_username", '""'),
    ("telegram.bot_username", '"many"'),
    ("telegram.bot_username", '"soon"'),
    ("telegram.bot_username", '"99999999999d"'),
    ("outbox.per_chat_interval", "0"),
    ("reminders.escalate_after", "0"),
    ("reminders.escalate_after", '"0s"'),
    ("database.echo", "true"),
    ("reminders.enabled", "true"),
}


def _allowed(option: str, value: str) -> bool:
    if option == "onboarding.qr_dir":  # any folder name will do, only a blank one is refused
        return value.startswith('"') and value.strip('" ') != ""
    if value == "1.5" and any(option.split(".")[-1].startswith(f) for f in FLOATS):
        return True
    return (option, value) in ALLOWED


def _options() -> list[tuple[str | None, str]]:
    from bot.core.config import Config

    found: list[tuple[str | None, str]] = [(None, "timezone"), (None, "default_language")]
    for section in ("telegram", "database", "onboarding", "outbox", "reminders", "logging"):
        found += [(section, f.name) for f in fields(getattr(Config(), section))]
    return found


def _cases() -> list[tuple[str | None, str, str]]:
    return [
        (section, key, value)
        for section, key in _options()
        for values in HOSTILE.values()
        for value in values
        if not _allowed(f"{section}.{key}" if section else key, value)
    ]


def _toml(section: str | None, key: str, value: str) -> str:
    return f"{key} = {value}\n" if section is None else f"[{section}]\n{key} = {value}\n"


@pytest.mark.parametrize(("section", "key", "value"), _cases())
def test_hostile_value_is_refused_naming_the_key(section: str | None, key: str, value: str) -> None:
    import tomllib

    raw = tomllib.loads(_toml(section, key, value))
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(raw, env={})
    assert caught.value.key == (f"{section}.{key}" if section else key)
    assert "\n" not in caught.value.message
    assert caught.value.message  # says what is allowed, not a bare "invalid"


def test_hostile_files_stop_the_cli_with_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = _cases()
    assert len(cases) > 300  # every key met every kind of nonsense
    for index, (section, key, value) in enumerate(cases[::7]):  # a spread: the CLI path is one
        bad = tmp_path / f"c{index}.toml"
        bad.write_text(_toml(section, key, value), encoding="utf-8")
        assert main(["--config", str(bad), "units", "list"]) == 2, (section, key, value)
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1, captured.err
        assert "Traceback" not in captured.err
        assert key in captured.err


@pytest.mark.parametrize(
    ("raw", "key", "fragment"),
    [
        ({"outbox": {"group_per_minute": 0}}, "outbox.group_per_minute", "1 to 1000"),
        ({"outbox": {"rate_per_second": float("nan")}}, "outbox.rate_per_second", "10000"),
        ({"outbox": {"rate_per_second": float("inf")}}, "outbox.rate_per_second", "10000"),
        ({"telegram": {"request_timeout": float("nan")}}, "telegram.request_timeout", "600"),
        ({"telegram": {"base_url": "http://"}}, "telegram.base_url", "with a host"),
        ({"onboarding": {"attempt_window": -600}}, "onboarding.attempt_window", "from 10s to 1d"),
        ({"onboarding": {"max_attempts": 0}}, "onboarding.max_attempts", "1 to 1000"),
        ({"outbox": {"per_chat_interval": -1}}, "outbox.per_chat_interval", "0 to 60"),
        ({"outbox": {"backoff_base": -1.0}}, "outbox.backoff_base", "3600"),
        ({"outbox": {"backoff_max": 0.5}}, "outbox.backoff_max", "backoff_base"),
        ({"telegram": {"poll_timeout": 10**400}}, "telegram.poll_timeout", "1 to 50"),
    ],
)
def test_the_reported_cases_name_the_allowed_range(raw: dict, key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(raw, env={})
    assert caught.value.key == key
    assert fragment in caught.value.message


def test_secrets_are_not_repeated_in_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"telegram": {"token": "123:SECRET with space"}}, env={})
    assert "SECRET" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({}, env={"FIELDBOT_DATABASE_URL": "mysql://u:hunter2@h/db"})
    assert caught.value.key == "database.url"
    assert "hunter2" not in str(caught.value)


def test_sections_made_in_code_are_checked_too() -> None:
    from pydantic import ValidationError

    from bot.core.config import OutboxConfig

    with pytest.raises(ValidationError):
        OutboxConfig(group_per_minute=0)
    assert OutboxConfig(burst=7).burst == 7


def test_environment_values_are_checked_like_the_file() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({}, env={"FIELDBOT_TOKEN": "has a space"})
    assert caught.value.key == "telegram.token"
    config = config_from_mapping(
        {}, env={"FIELDBOT_DATABASE_URL": "postgresql+asyncpg://u:pw@127.0.0.1:5432/db"}
    )
    assert config.database.url.endswith("/db")
