"""The command line is quiet and clear: what it did in one line, what went wrong in one line
with what to do about it, and a non-zero exit status; Alembic's chatter only with ``-v``."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.cli import main
from storage.migrate import alembic_config

SECRET = "s3cr3t-pw"


def _closed_port() -> int:
    """A local port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _config(tmp_path: Path, *, database: str | None = None, telegram: str = "") -> Path:
    path = tmp_path / "config.toml"
    url = database or f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    path.write_text(f'[database]\nurl = "{url}"\n[telegram]\n{telegram}', encoding="utf-8")
    return path


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_db_upgrade_says_what_it_did_then_that_nothing_was_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert f"Đã nâng cấp cơ sở dữ liệu từ phiên bản — lên {head}" in capsys.readouterr().out
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"đã ở phiên bản mới nhất ({head})" in out
    assert "nâng cấp từ" not in out


def test_migrations_are_logged_only_when_asked(tmp_path: Path) -> None:
    """A real process, so its logging is its own: the migrations of a new database run in
    both cases; only ``-v`` shows them."""

    def fieldbot(folder: str, *args: str) -> subprocess.CompletedProcess[str]:
        (tmp_path / folder).mkdir()
        config = _config(tmp_path / folder)
        command = [sys.executable, "-m", "bot", "--config", str(config), *args, "units", "list"]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    quiet = fieldbot("quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert quiet.stdout.strip() == "Chưa có đơn vị nào. Nhập bằng: fieldbot units import FILE.csv"
    verbose = fieldbot("verbose", "-v")
    assert verbose.returncode == 0, verbose.stderr
    assert "alembic" in verbose.stderr
    assert "Running upgrade" in verbose.stderr


@pytest.mark.parametrize("command", [["units", "list"], ["db", "upgrade"], ["run"]])
def test_an_unreachable_database_is_one_line_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    url = f"postgresql+asyncpg://fieldbot:{SECRET}@127.0.0.1:{_closed_port()}/fieldbot"
    config = _config(tmp_path, database=url, telegram='token = "123:ABC"\n')
    assert main(["--config", str(config), *command]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("Không kết nối được cơ sở dữ liệu postgresql+asyncpg://fieldbot:***@")
    assert "Kiểm tra database.url" in line
    assert SECRET not in line


def test_an_invitation_offline_without_a_username_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    telegram = f'token = "123:ABC"\nbase_url = "http://127.0.0.1:{_closed_port()}/bot"\n'
    config = _config(tmp_path, telegram=telegram)
    units = tmp_path / "units.csv"
    units.write_text("code,name,level,parent_code\nHN,Hà Nội,province,\n", encoding="utf-8")
    assert main(["--config", str(config), "units", "import", str(units)]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "invite", "create", "--unit", "HN", "--role", "officer"])
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("Không kết nối được Telegram để hỏi tên bot")
    assert "telegram.bot_username" in line


def test_an_invitation_offline_with_a_username_needs_no_network(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    telegram = (
        f'token = "123:ABC"\nbase_url = "http://127.0.0.1:{_closed_port()}/bot"\n'
        'bot_username = "fieldbot_test_bot"\n'
    )
    config = _config(tmp_path, telegram=telegram)
    units = tmp_path / "units.csv"
    units.write_text("code,name,level,parent_code\nHN,Hà Nội,province,\n", encoding="utf-8")
    assert main(["--config", str(config), "units", "import", str(units)]) == 0
    qr = tmp_path / "hn.png"
    command = ["invite", "create", "--unit", "HN", "--role", "officer", "--qr", str(qr)]
    assert main(["--config", str(config), *command]) == 0
    assert "https://t.me/fieldbot_test_bot?start=" in capsys.readouterr().out
    assert qr.stat().st_size > 0
