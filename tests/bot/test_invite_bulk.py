"""``fieldbot invite bulk``: a batch of invitations for a meeting, its CSV and its QR sheet."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import stat
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from bot.cli import main
from bot.core.clock import SystemClock
from bot.core.config import OnboardingConfig
from bot.services import invitations_bulk, invite_sheets, onboarding
from bot.services.authz import Actor, NotAllowed
from bot.services.invitations_bulk import (
    NoUnitsAtLevel,
    TooManyUnits,
    UnknownLevel,
    create_invitations_under,
)
from bot.services.members import role_label
from bot.services.onboarding import (
    InvalidInvitation,
    Redeemed,
    TelegramIdentity,
    redeem_invitation,
)
from storage.db import Database
from storage.models import AuditEvent, Invitation, Role
from tests.factories import make_member, make_tree

BOT = "fieldbot_test_bot"
PROVINCES = [
    "Hà Nội",
    "Huế",
    "Lai Châu",
    "Điện Biên",
    "Sơn La",
    "Lạng Sơn",
    "Quảng Ninh",
    "Thanh Hóa",
    "Nghệ An",
    "Hà Tĩnh",
    "Cao Bằng",
    "Tuyên Quang",
    "Lào Cai",
    "Thái Nguyên",
    "Phú Thọ",
    "Bắc Ninh",
    "Hưng Yên",
    "Hải Phòng",
    "Ninh Bình",
    "Quảng Trị",
    "Đà Nẵng",
    "Quảng Ngãi",
    "Gia Lai",
    "Khánh Hòa",
    "Lâm Đồng",
    "Đắk Lắk",
    "TP Hồ Chí Minh",
    "Đồng Nai",
    "Tây Ninh",
    "Cần Thơ",
    "Vĩnh Long",
    "Đồng Tháp",
    "Cà Mau",
    "An Giang",
]
SYLLABLES = [
    "Phúc",
    "Xá",
    "Trúc",
    "Bạch",
    "Đắk",
    "Hà",
    "Ỷ",
    "La",
    "Kỳ",
    "Sơn",
    "Ứng",
    "Hòa",
    "Thủy",
    "Nguyễn",
    "Trãi",
    "Yên",
    "Ngọc",
    "Lũng",
    "Cú",
    "Ẵm",
    "Tuyền",
    "Quỳnh",
    "Lưu",
    "Ơn",
    "Mường",
    "Thượng",
    "Đồng",
    "Hỷ",
    "Bảo",
    "Lộc",
    "Ẩn",
    "Ải",
    "Chiểu",
    "Ẻn",
    "Ễnh",
    "Ịch",
    "Ỏi",
    "Ỗ",
    "Ờ",
    "Ở",
    "Ỡ",
    "Ợ",
    "Ủ",
    "Ừ",
    "Ử",
    "Ự",
    "Ỵ",
    "Ỷ",
]
KINDS = ("xã", "phường", "đặc khu")
# Every letter of Vietnamese, both cases: what a unit name may hold.
VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
VIETNAMESE += VIETNAMESE.upper()
TARGET = 12  # the province the meeting is for: Cao Bằng


def communes_of(index: int) -> int:
    """Between 38 and 168 communes a province, as in the tree since 2025."""
    return 38 + (index * 53) % 131


def national_tree() -> str:
    lines = ["code,name,level,parent_code", "BCA,Bộ Công an,ministry,"]
    for p, province in enumerate(PROVINCES, start=1):
        lines.append(f"P{p:02d},Công an {province},province,BCA")
        for c in range(1, communes_of(p) + 1):
            words = SYLLABLES[(p * 7 + c) % len(SYLLABLES)], SYLLABLES[(c * 3) % len(SYLLABLES)]
            name = f"Công an {KINDS[c % 3]} {' '.join(words)} {c}"
            lines.append(f"P{p:02d}-X{c:03d},{name},commune,P{p:02d}")
    # Names and codes that a spreadsheet would take for formulas.
    lines += [
        f'-EVIL1,"=HYPERLINK(""http://x"",""bấm"")",commune,P{TARGET:02d}',
        f"EVIL2,+84 Công an xã Ấp Mới,commune,P{TARGET:02d}",
        f"EVIL3,@SUM(1),commune,P{TARGET:02d}",
    ]
    return "\n".join(lines) + "\n"


TARGET_COMMUNES = communes_of(TARGET) + 3


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "cli.db"}"\n'
        f'[telegram]\nbot_username = "{BOT}"\n'
        f'[onboarding]\nqr_dir = "{tmp_path / "qr"}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def national(config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    units = tmp_path / "units.csv"
    units.write_text(national_tree(), encoding="utf-8")
    assert run(config_file, "units", "import", str(units)) == 0
    capsys.readouterr()
    return config_file


def run(config: Path, *args: str) -> int:
    return main(["--config", str(config), *args])


def bulk(config: Path, *args: str) -> int:
    return run(config, "invite", "bulk", *args)


def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


def count_invitations(tmp_path: Path) -> int:
    async def count() -> int:
        db = Database(db_url(tmp_path))
        try:
            async with db.session() as session:
                return int(await session.scalar(select(func.count()).select_from(Invitation)) or 0)
        finally:
            await db.dispose()

    return asyncio.run(count())


def read_csv(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_bulk_for_one_province_gives_a_working_invitation_per_commune(
    national: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hop" / "moi-cao-bang.csv"
    code = f"P{TARGET:02d}"
    args = ("--under", code, "--level", "commune", "--role", "officer", "--out", str(out))
    assert bulk(national, *args, "--expires", "14d", "--uses", "15") == 0
    said = capsys.readouterr().out
    pages = invite_sheets.pages_for(TARGET_COMMUNES)
    assert f"Đã tạo {TARGET_COMMUNES} link mời vai trò cán bộ" in said
    assert str(out) in said
    assert f"{out.with_suffix('.pdf')} ({pages} trang A4)" in said

    rows = read_csv(out)
    assert list(rows[0]) == [
        "mã đơn vị",
        "tên đơn vị",
        "cấp",
        "đơn vị cấp trên",
        "vai trò",
        "liên kết",
        "hết hạn",
    ]
    assert len(rows) == TARGET_COMMUNES == count_invitations(tmp_path)
    codes = [r["mã đơn vị"].lstrip("'") for r in rows]
    assert codes == sorted(codes)  # as one looks a unit up on paper
    first = next(r for r in rows if r["mã đơn vị"] == f"{code}-X001")
    assert first["tên đơn vị"].startswith("Công an phường ")
    assert first["đơn vị cấp trên"] == f"Công an {PROVINCES[TARGET - 1]} [{code}]"
    assert first["vai trò"] == "cán bộ"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", first["hết hạn"])
    links = [r["liên kết"] for r in rows]
    assert len(set(links)) == len(links)
    assert all(re.fullmatch(rf"https://t\.me/{BOT}\?start=[A-Za-z0-9_-]{{1,64}}", x) for x in links)
    by_code = {r["mã đơn vị"]: r for r in rows}
    # Formula-looking cells come out as text; the unit itself is named as it is.
    assert by_code["'-EVIL1"]["tên đơn vị"] == '\'=HYPERLINK("http://x","bấm")'
    assert by_code["EVIL2"]["tên đơn vị"] == "'+84 Công an xã Ấp Mới"
    assert by_code["EVIL3"]["tên đơn vị"] == "'@SUM(1)"

    pdf = out.with_suffix(".pdf")
    for path in (out, pdf):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b(?!s)", data)) == pages
    assert b"/FontFile2" in data
    assert b"DejaVuSans" in data
    drawn = qr_images(data)
    assert drawn == [qr_modules(link) for link in links]
    assert [decode(modules) for modules in drawn] == links  # as a phone reads them
    assert not list(out.parent.glob(".*.part"))

    # One of the links works: the commune's officer registers with it.
    payload = by_code[f"{code}-X002"]["liên kết"].split("start=")[1]
    result = asyncio.run(redeem(tmp_path, payload))
    assert result.outcome is Redeemed.PENDING
    assert result.member is not None
    assert result.member.unit_code == f"{code}-X002"
    assert result.member.role is Role.OFFICER


async def redeem(tmp_path: Path, code: str) -> onboarding.RedeemResult:
    db = Database(db_url(tmp_path))
    try:
        async with db.session() as session:
            who = TelegramIdentity(777, 777, "Nguyễn Thị Ánh Tuyết", None)
            return await redeem_invitation(
                session, SystemClock(), OnboardingConfig(), who, code, "vi"
            )
    finally:
        await db.dispose()


def qr_modules(link: str) -> list[list[bool]]:
    return invite_sheets.qr_matrix(link)


def decode(modules: list[list[bool]]) -> str:
    side = len(modules)
    image = Image.frombytes("L", (side, side), bytes(0 if d else 255 for r in modules for d in r))
    found = zxingcpp.read_barcode(image.resize((side * 4, side * 4), Image.Resampling.NEAREST))
    assert found is not None
    return str(found.text)


def qr_images(pdf: bytes) -> list[list[list[bool]]]:
    """The QR codes drawn in ``pdf``, in drawing order, read back module by module from the
    embedded images (8-bit grey, Flate with PNG row filters): no renderer needed."""
    found = []
    for match in re.finditer(
        rb"<<((?:(?!>>\nstream).)*?/Subtype /Image.*?)>>\nstream\n", pdf, re.S
    ):
        head = match.group(1)
        width = int(re.search(rb"/Width (\d+)", head).group(1))  # type: ignore[union-attr]
        height = int(re.search(rb"/Height (\d+)", head).group(1))  # type: ignore[union-attr]
        length = int(re.search(rb"/Length (\d+)", head).group(1))  # type: ignore[union-attr]
        assert b"/DeviceGray" in head
        assert b"/BitsPerComponent 8" in head
        raw = zlib.decompress(pdf[match.end() : match.end() + length])
        pixels = _unfilter(raw, width, height)
        step = invite_sheets.MODULE_PX
        found.append(
            [
                [
                    pixels[r * step + step // 2][c * step + step // 2] < 128
                    for c in range(width // step)
                ]
                for r in range(height // step)
            ]
        )
    return found


def _unfilter(raw: bytes, width: int, height: int) -> list[bytearray]:
    rows: list[bytearray] = []
    previous = bytearray(width)
    for r in range(height):
        kind, line = (
            raw[r * (width + 1)],
            bytearray(raw[r * (width + 1) + 1 : (r + 1) * (width + 1)]),
        )
        for i in range(width):
            left = line[i - 1] if i else 0
            up, corner = previous[i], previous[i - 1] if i else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (
                    line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)
                ) & 255
        rows.append(line)
        previous = line
    return rows


def test_the_qr_codes_decode_to_the_links(tmp_path: Path) -> None:
    """With a renderer and a decoder at hand, read the printed sheet as a phone would."""
    pdfium = pytest.importorskip("pypdfium2")
    links = [f"https://t.me/{BOT}?start={onboarding.new_code()}" for _ in range(14)]
    names = [f"Công an xã {SYLLABLES[i]} Ngọc Quỳnh Lưu {i}" for i in range(14)]
    cards = [
        invite_sheets.Card(n, f"X{i}", x)
        for i, (n, x) in enumerate(zip(names, links, strict=False))
    ]
    data = invite_sheets.sheet_pdf(cards, "Link mời vai trò cán bộ", lambda p, n: f"Trang {p}/{n}")
    document = pdfium.PdfDocument(data)
    assert len(document) == 2
    decoded, text = [], ""
    for page in document:
        image = page.render(scale=200 / 72).to_pil()
        decoded += [b.text for b in zxingcpp.read_barcodes(image)]
        text += page.get_textpage().get_text_range()
    assert sorted(decoded) == sorted(links)
    for name in names:  # the viewer has the text with its diacritics, not boxes
        assert name in text.replace("\r\n", " ").replace("\n", " ")


def test_the_font_draws_every_vietnamese_letter_and_every_unit_name() -> None:
    names = [line.split(",")[1] for line in national_tree().splitlines()[1:]]
    assert invite_sheets.missing_glyphs([VIETNAMESE, *names, *PROVINCES]) == set()
    assert invite_sheets.missing_glyphs(["Công an xã 漢"]) == {"漢"}  # the check can fail
    # Decomposed input (e + combining marks) is printed composed, which the font has.
    assert invite_sheets.missing_glyphs(["Nguye\u0302\u0303n"]) == set()
    assert invite_sheets.font_path().is_file()
    assert "site-packages" in str(invite_sheets.font_path())  # from a package, not the system


def test_csv_cells_are_never_formulas() -> None:
    for text in ("=1+2", "+1", "-1", "@x", "\tx", "\rx"):
        assert invite_sheets.safe_cell(text) == "'" + text
    assert invite_sheets.safe_cell("Công an xã Ấp Mới") == "Công an xã Ấp Mới"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--under", "NOPE", "--level", "commune", "--role", "officer"), "Không có đơn vị mã NOPE"),
        (("--under", "BCA", "--level", "hamlet", "--role", "officer"), "Không có cấp “hamlet”"),
        (
            ("--under", "P01", "--level", "ministry", "--role", "officer"),
            "Dưới đơn vị Công an Hà Nội [P01] không có đơn vị cấp “ministry”. "
            "Các cấp dưới đơn vị này: commune.",
        ),
        (
            ("--under", "P01-X001", "--level", "province", "--role", "officer"),
            "không thuộc cấp “province” và không có đơn vị cấp dưới",
        ),
        (
            ("--under", "P01", "--level", "commune", "--role", "chief"),
            "Vai trò không hợp lệ: chief",
        ),
        (
            ("--under", "P01", "--level", "commune", "--role", "admin"),
            "Vai trò không hợp lệ: admin",
        ),
        (
            ("--under", "P01", "--level", "commune", "--role", "officer", "--expires", "soon"),
            "Thời hạn không hợp lệ",
        ),
        (
            ("--under", "P01", "--level", "commune", "--role", "officer", "--uses", "0"),
            "Số lượt dùng phải là số từ 1 đến 10000",
        ),
    ],
)
def test_bad_input_gets_one_clear_line_and_creates_nothing(
    national: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    out = tmp_path / "out.csv"
    assert bulk(national, *args, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert not out.with_suffix(".pdf").exists()
    assert count_invitations(tmp_path) == 0


@pytest.mark.parametrize("where", ["not_csv", "under_a_file", "a_folder"])
def test_unwritable_file_is_refused_before_anything_is_made(
    national: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    (tmp_path / "plain.txt").write_text("x", encoding="utf-8")
    (tmp_path / "folder.csv").mkdir()
    out = {
        "not_csv": tmp_path / "links.xlsx",
        "under_a_file": tmp_path / "plain.txt" / "links.csv",  # refused even to root
        "a_folder": tmp_path / "folder.csv",
    }[where]
    args = ("--under", "P01", "--level", "commune", "--role", "officer", "--out", str(out))
    assert bulk(national, *args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert ("đuôi .csv" if where == "not_csv" else f"Không ghi được tệp {out} (") in err
    assert count_invitations(tmp_path) == 0


def test_a_failed_write_rolls_the_invitations_back(
    national: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def disk_full(files: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(invite_sheets, "write_private", disk_full)
    out = tmp_path / "out.csv"
    assert (
        bulk(
            national, "--under", "P01", "--level", "commune", "--role", "officer", "--out", str(out)
        )
        == 2
    )
    assert "No space left on device" in capsys.readouterr().err
    assert count_invitations(tmp_path) == 0
    assert not out.exists()


def test_more_than_the_limit_asks_for_yes(
    national: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(invitations_bulk, "BULK_LIMIT", 50)
    out = tmp_path / "all.csv"
    args = ("--under", "P01", "--level", "commune", "--role", "coordinator", "--out", str(out))
    assert bulk(national, *args) == 2
    err = capsys.readouterr().err
    assert f"sẽ tạo {communes_of(1)} link mời, nhiều hơn mức 50" in err
    assert count_invitations(tmp_path) == 0
    assert bulk(national, *args, "--yes", "--auto-approve") == 0
    assert "tự động kích hoạt" in capsys.readouterr().out
    assert count_invitations(tmp_path) == communes_of(1) == len(read_csv(out))
    assert {r["vai trò"] for r in read_csv(out)} == {role_label("vi", Role.COORDINATOR)}
    # Counts in the thousands are written the Vietnamese way.
    monkeypatch.setattr(invitations_bulk, "BULK_LIMIT", 1_000)
    everything = ("--under", "BCA", "--level", "commune", "--role", "officer", "--out", str(out))
    assert bulk(national, *everything) == 2
    total = f"{sum(communes_of(p) for p in range(1, 35)) + 3:,}".replace(",", ".")
    assert f"sẽ tạo {total} link mời, nhiều hơn mức 1.000" in capsys.readouterr().err


def test_the_cards_fit_their_frames() -> None:
    s = invite_sheets
    used = s.QR_TOP + s.QR_SIDE + 1 + s.NAME_LINES * s.LINE_H + 0.5 + s.LINE_H
    assert used <= s.CARD_H
    assert s.QR_SIDE <= s.CARD_W - 4
    assert pytest.approx(s.PAGE_W) == s.COLUMNS * s.CARD_W + 2 * s.MARGIN


async def test_the_unit_itself_is_included_when_of_that_level(session, clock) -> None:
    await make_tree(session, clock)
    batch = await create_invitations_under(
        session, clock, Actor.system(), "HN-BD-PX", "commune", Role.OBSERVER, ttl=timedelta(days=3)
    )
    assert [m.invitation.unit_code for m in batch.invitations] == ["HN-BD-PX"]
    assert batch.invitations[0].parent_code == "HN-BD"
    assert batch.invitations[0].invitation.expires_at == clock.now() + timedelta(days=3)
    whole = await create_invitations_under(
        session, clock, Actor.system(), "BCA", "commune", Role.OFFICER, ttl=timedelta(days=3)
    )
    assert [m.invitation.unit_code for m in whole.invitations] == [
        "HN-BD-PX",
        "HN-BD-TB",
        "QN-HL-BC",
    ]
    audits = await session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "invitation.create")
    )
    assert audits == 4  # one record per invitation, as for one made alone


async def test_the_service_keeps_the_invariants(session, clock) -> None:
    await make_tree(session, clock)
    week = timedelta(days=7)
    with pytest.raises(InvalidInvitation):
        await create_invitations_under(
            session, clock, Actor.system(), "HN", "commune", Role.ADMIN, ttl=week
        )
    with pytest.raises(InvalidInvitation):
        await create_invitations_under(
            session, clock, Actor.system(), "HN", "commune", Role.OFFICER, ttl=timedelta(0)
        )
    with pytest.raises(UnknownLevel):
        await create_invitations_under(
            session, clock, Actor.system(), "HN", "hamlet", Role.OFFICER, ttl=week
        )
    with pytest.raises(NoUnitsAtLevel):
        await create_invitations_under(
            session, clock, Actor.system(), "QN", "ministry", Role.OFFICER, ttl=week
        )
    with pytest.raises(TooManyUnits):
        await create_invitations_under(
            session, clock, Actor.system(), "BCA", "commune", Role.OFFICER, ttl=week, limit=2
        )
    assert await session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_files_are_written_owner_only_and_all_or_none(tmp_path: Path) -> None:
    old = tmp_path / "links.csv"
    old.write_text("cũ", encoding="utf-8")
    old.chmod(0o644)
    invite_sheets.write_private({old: b"new", tmp_path / "links.pdf": b"%PDF"})
    assert old.read_bytes() == b"new"
    assert stat.S_IMODE(old.stat().st_mode) == 0o600  # a file that was there does not keep 0644
    (tmp_path / "plain.txt").write_text("x", encoding="utf-8")
    fresh = tmp_path / "fresh.csv"
    with pytest.raises(OSError, match="plain.txt"):
        invite_sheets.write_private({fresh: b"1", tmp_path / "plain.txt" / "x.pdf": b"2"})
    assert not fresh.exists()
    assert not list(tmp_path.glob(".*.part"))


async def test_a_coordinator_cannot_batch_outside_their_subtree(session, clock) -> None:
    await make_tree(session, clock)
    coordinator = await make_member(session, clock, "QN", Role.COORDINATOR)
    actor = coordinator.actor
    with pytest.raises(NotAllowed):
        await create_invitations_under(
            session, clock, actor, "BCA", "commune", Role.OFFICER, ttl=timedelta(days=1)
        )
    mine = await create_invitations_under(
        session, clock, actor, "QN", "commune", Role.OFFICER, ttl=timedelta(days=1)
    )
    assert [m.invitation.unit_code for m in mine.invitations] == ["QN-HL-BC"]
