"""No secret reaches a log or a world-readable file: the token, invitation codes, passwords."""

from __future__ import annotations

import asyncio
import io
import logging
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.core import logsafe
from bot.core.qr import write_qr
from bot.emulator import BotApiEmulator

TOKEN = "7512345678:AAH4kq9ZxYwVuTsRqPoNmLkJiHgFeDcBa01"
CODE = "Zq3xK9vL2mN8pQ4r"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"POST https://api.telegram.org/bot{TOKEN}/getMe", TOKEN),
        (f"The token `{TOKEN}` was rejected by the server.", TOKEN),
        (f"Update(message=Message(text='/start {CODE}'))", CODE),
        (f"{{'text': '/start@fieldbot_bot {CODE}'}}", CODE),
        (f"https://t.me/fieldbot_bot?start={CODE}", CODE),
        ("postgresql+asyncpg://fieldbot:hunter2secret@db:5432/fieldbot", "hunter2secret"),
    ],
)
def test_secret_shapes_are_masked(text: str, secret: str) -> None:
    masked = logsafe.redact(text)
    assert secret not in masked
    assert logsafe.MASK in masked


def test_a_known_secret_is_masked_whatever_its_shape() -> None:
    assert "s3cr3t-value" not in logsafe.redact("webhook s3cr3t-value here", ["s3cr3t-value"])


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_message_args_exception_and_library_loggers_are_filtered(log_output: io.StringIO) -> None:
    from telegram.error import InvalidToken

    logsafe.install([TOKEN, "hunter2secret"])
    logging.getLogger("telegram.ext.ExtBot").debug("calling %s", f"/bot{TOKEN}/getUpdates")
    logging.getLogger("aiohttp.client").debug("url=https://x/bot%s/getMe", TOKEN)
    logging.getLogger("telegram.ext.Application").debug(
        "Processing update %r", {"message": {"text": f"/start {CODE}"}}
    )
    try:
        raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
    except InvalidToken:
        logging.getLogger("fieldbot").exception("start failed")
    logging.getLogger("storage").info("db at postgresql+asyncpg://u:hunter2secret@h/db")
    text = log_output.getvalue()
    assert "calling" in text
    assert "start failed" in text
    assert "Traceback" in text
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text
    assert CODE not in text
    assert "hunter2secret" not in text


@pytest.fixture
def emulator_thread() -> Iterator[BotApiEmulator]:
    """An emulator on a loop of its own, for code that runs ``asyncio.run`` itself (the CLI)."""
    loop = asyncio.new_event_loop()
    emulator = BotApiEmulator()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(emulator.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield emulator
    finally:
        asyncio.run_coroutine_threadsafe(emulator.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_a_rejected_token_is_never_printed_even_at_debug(
    emulator_thread: BotApiEmulator,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIELDBOT_TOKEN", TOKEN)  # not the emulator's: it answers 401
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\nbase_url = "{emulator_thread.base_url}"\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "bot.db"}"\n'
        '[logging]\nlevel = "DEBUG"\n',
        encoding="utf-8",
    )
    caplog.set_level(logging.DEBUG)
    assert main(["--config", str(config), "run"]) == 2
    out, err = capfd.readouterr()
    assert "@BotFather" in err  # told plainly what to do
    everything = out + err + caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "getMe" in caplog.text  # the library did log its calls at DEBUG
    assert TOKEN not in everything
    assert TOKEN.split(":")[1] not in everything


def test_qr_files_are_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "fresh" / "qr" / "invite-1.png"
    write_qr(f"https://t.me/fieldbot_bot?start={CODE}", target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700
    target.chmod(0o644)  # an old file written before this rule: rewriting tightens it
    write_qr("https://t.me/fieldbot_bot?start=other", target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
