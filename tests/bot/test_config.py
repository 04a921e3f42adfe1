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
    raw = {"telegram": {"token": "from-file"}}
    config = config_from_mapping(raw, env={"FIELDBOT_TOKEN": "from-env"})
    assert config.telegram.token == "from-env"


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
