"""The ``fieldbot`` command line, run in-process on a database of its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.clock import SystemClock
from storage.db import Database
from storage.models import Role
from tests.factories import TREE, make_member


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "cli.db"}"\n'
        f'[telegram]\nbot_username = "fieldbot_test_bot"\n'
        f'[onboarding]\nqr_dir = "{tmp_path / "qr"}"\n',
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str) -> int:
    return main(["--config", str(config), *args])


def _import_tree(config: Path, folder: Path) -> None:
    units = folder / "units.csv"
    units.write_text(TREE, encoding="utf-8")
    assert run(config, "units", "import", str(units)) == 0


def test_db_upgrade(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert run(config_file, "db", "upgrade") == 0
    assert head is not None
    assert head in capsys.readouterr().out


def test_import_then_list(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units = tmp_path / "units.csv"
    units.write_text(TREE, encoding="utf-8")
    assert run(config_file, "units", "import", str(units)) == 0
    assert "8 đơn vị mới" in capsys.readouterr().out
    assert run(config_file, "units", "import", str(units)) == 0
    assert "0 đơn vị mới, 0 cập nhật, 8 không đổi" in capsys.readouterr().out
    assert run(config_file, "units", "list") == 0
    listing = capsys.readouterr().out
    assert "  HN | Công an Hà Nội | province | BCA" in listing
    assert "      HN-BD-PX | Công an phường Phúc Xá | commune | HN-BD" in listing


def test_import_errors_name_lines_and_write_nothing(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,level,parent_code\nA,Bộ,ministry,\nB,,province,A\nC,Xã,commune,ZZ\nA,Lặp,x,\n",
        encoding="utf-8",
    )
    assert run(config_file, "units", "import", str(bad)) == 1
    err = capsys.readouterr().err
    assert "chưa có gì được ghi" in err
    assert "Dòng 3: tên đơn vị bị trống" in err
    assert "Dòng 5: mã A bị trùng (đã có ở dòng 2)" in err
    assert run(config_file, "units", "list") == 0
    assert "Chưa có đơn vị nào" in capsys.readouterr().out


def test_missing_file(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config_file, "units", "import", "/nonexistent.csv") == 2
    assert "Không tìm thấy tệp" in capsys.readouterr().err


def test_invite_create_prints_link_and_writes_qr(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_tree(config_file, tmp_path)
    capsys.readouterr()
    assert (
        run(
            config_file,
            "invite",
            "create",
            "--unit",
            "HN-BD-PX",
            "--role",
            "officer",
            "--uses",
            "5",
            "--expires",
            "3d",
            "--auto-approve",
        )
        == 0
    )
    out = capsys.readouterr().out
    link = next(w for w in out.split() if w.startswith("https://t.me/fieldbot_test_bot?start="))
    assert 1 <= len(link.split("start=")[1]) <= 64
    assert "5 lượt" in out
    assert "tự động kích hoạt" in out
    qr = Path(out.strip().splitlines()[-1].split(": ", 1)[1])
    assert qr.read_bytes().startswith(b"\x89PNG")
    assert run(config_file, "invite", "create", "--unit", "NOPE", "--role", "officer") == 1
    assert (
        run(
            config_file,
            "invite",
            "create",
            "--unit",
            "HN",
            "--role",
            "officer",
            "--expires",
            "soon",
        )
        == 2
    )


def test_members_list(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config_file, "members", "list") == 0
    assert "Chưa có cán bộ nào" in capsys.readouterr().out
    assert run(config_file, "members", "list", "--unit", "NOPE") == 1


def test_run_without_token_explains(
    config_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FIELDBOT_TOKEN", raising=False)
    assert run(config_file, "run") == 2
    assert "make demo" in capsys.readouterr().err


def test_group_and_directive_send(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_tree(config_file, tmp_path)
    assert run(config_file, "group", "set", "Điểm tổ chức", "--units", "HN-BD-PX,QN-HL-BC") == 0
    assert "2 đơn vị" in capsys.readouterr().out
    assert run(config_file, "group", "set", "Sai", "--units", "NOPE") == 1

    async def seed() -> int:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        async with db.session() as session:
            boss = await make_member(session, SystemClock(), "BCA", Role.COORDINATOR)
            await make_member(session, SystemClock(), "HN-BD-PX")
            await make_member(session, SystemClock(), "QN-HL-BC")
        await db.dispose()
        return boss.id

    boss_id = asyncio.run(seed())
    text = tmp_path / "directive.txt"
    text.write_text("Chuẩn bị Ngày hội toàn dân bảo vệ an ninh Tổ quốc.", encoding="utf-8")
    args = [
        "directive",
        "send",
        "--from",
        str(boss_id),
        "--text-file",
        str(text),
        "--ack-by",
        "48h",
    ]
    assert run(config_file, *args, "--to", "group:Điểm tổ chức") == 0
    assert "2 đơn vị, 2 cán bộ" in capsys.readouterr().out
    assert run(config_file, *args, "--to", "level:commune") == 0
    assert "3 đơn vị, 2 cán bộ" in capsys.readouterr().out
    assert run(config_file, *args, "--to", "everyone") == 1
    assert "Không hiểu đối tượng nhận" in capsys.readouterr().err
    assert (
        run(
            config_file,
            "directive",
            "send",
            "--from",
            "999",
            "--to",
            "subtree",
            "--text-file",
            str(text),
            "--ack-by",
            "48h",
        )
        == 1
    )
    assert (
        run(
            config_file,
            "directive",
            "send",
            "--from",
            str(boss_id),
            "--to",
            "subtree",
            "--text-file",
            str(text),
            "--ack-by",
            "hôm qua",
        )
        == 2
    )
    capsys.readouterr()
    assert run(config_file, "members", "list", "--unit", "HN") == 0
    listing = capsys.readouterr().out
    assert "HN-BD-PX" in listing
    assert "QN-HL-BC" not in listing


def test_plan_import_reports_each_bad_line_and_then_imports(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_tree(config_file, tmp_path)
    plan = tmp_path / "plan.csv"
    plan.write_text("title,deadline,assign\nRà soát,event-14d,level:commune\nX,hôm nay,subtree\n")
    options = ("--code", "333/KH-BCĐ", "--title", "Ngày hội", "--event-date", "2031-08-19")
    assert run(config_file, "plan", "import", str(plan), *options, "--owner", "HN") == 1
    assert "Dòng 3: thời hạn “hôm nay” không hợp lệ" in capsys.readouterr().err
    plan.write_text("title,deadline,assign\nRà soát,event-14d,level:commune\n")
    assert run(config_file, "plan", "import", str(plan), *options, "--owner", "HN") == 0
    assert "Đã nhập kế hoạch 333/KH-BCĐ (mới): 1 nhiệm vụ, 2 lượt" in capsys.readouterr().out


def test_plan_reminders_are_shown_set_checked_and_reset(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_tree(config_file, tmp_path)
    plan = tmp_path / "plan.csv"
    plan.write_text("title,deadline,assign\nRà soát,event-14d,level:commune\n")
    options = ("--code", "KH-9", "--title", "Ngày hội", "--event-date", "2031-08-19")
    assert run(config_file, "plan", "import", str(plan), *options, "--owner", "HN") == 0
    capsys.readouterr()
    assert run(config_file, "plan", "reminders", "KH-9") == 0
    assert "trước hạn 3d, 1d, 2h; quá hạn thì nhắc mỗi 1d" in capsys.readouterr().out
    args = ("plan", "reminders", "KH-9", "--offsets", "2h,7d", "--escalate-after", "1d12h")
    assert run(config_file, *args) == 0
    out = capsys.readouterr().out
    assert "trước hạn 7d, 2h;" in out
    assert "sau hạn 1d12h" in out
    assert "Kế hoạch tự đặt: escalate_after, task_offsets" in out
    assert run(config_file, "plan", "reminders", "KH-9", "--overdue-every", "1m") == 1
    assert "overdue_every: must be at least 10m" in capsys.readouterr().err
    assert run(config_file, "plan", "reminders", "KH-9") == 0  # the bad change was not kept
    assert "trước hạn 7d, 2h;" in capsys.readouterr().out
    assert run(config_file, "plan", "reminders", "KH-9", "--reset") == 0
    assert "trước hạn 3d, 1d, 2h;" in capsys.readouterr().out
    assert run(config_file, "plan", "reminders", "NOPE") == 1
    assert "Không tìm thấy kế hoạch NOPE" in capsys.readouterr().err
