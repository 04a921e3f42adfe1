"""What a coordinator hands out at a meeting: a spreadsheet of invitation links (CSV that Excel
opens with Vietnamese intact) and an A4 sheet of their QR codes with each unit's name under it
(PDF with an embedded font, so the viewer draws the diacritics, not the machine's fonts).

Both files hold live invitations: they are written owner-only (0600) like the QR files of
``fieldbot invite create``, and only whole (written aside, then moved into place).
"""

from __future__ import annotations

import csv
import errno
import importlib.util
import io
import os
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

import zxingcpp
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF
from PIL import Image

from bot.core.qr import FILE_MODE, FOLDER_MODE

# Matplotlib ships DejaVu Sans (every Vietnamese letter, precomposed): a font that comes with a
# package, so a deployment does not depend on the fonts of the machine it runs on.
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT_FAMILY = "DejaVuSans"

# A4 portrait, in millimetres; 3 × 4 cards a page, each one cut out along its grey frame.
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 10.0
HEADER_H = 8.0
COLUMNS, ROWS = 3, 4
PER_PAGE = COLUMNS * ROWS
CARD_W = (PAGE_W - 2 * MARGIN) / COLUMNS
CARD_H = (PAGE_H - 2 * MARGIN - HEADER_H) / ROWS
QR_SIDE = 46.0  # quiet zone included; about 1.1 mm a module for a link's QR (version 4)
QR_TOP = 2.5  # from the card's top edge
MODULE_PX = 4  # image pixels per module: stays sharp in viewers that smooth scaled images
NAME_LINES = 3
NAME_PT, CODE_PT, HEADER_PT = 9, 8, 8
LINE_H = 3.8

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Card:
    """One cell of the printed sheet."""

    name: str
    code: str
    link: str


def font_path(style: str = "") -> Path:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("matplotlib (which ships the DejaVu Sans font) is not installed")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / FONT_FILES[style]


@cache
def _font_chars(style: str) -> frozenset[int]:
    with TTFont(font_path(style), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(texts: Iterable[str]) -> set[str]:
    """Characters of ``texts`` (as they are printed: NFC) that a font of the sheet cannot draw."""
    wanted = {ch for text in texts for ch in unicodedata.normalize("NFC", text) if ch.isprintable()}
    have = _font_chars("") & _font_chars("B")
    return {ch for ch in wanted if ord(ch) not in have}


def safe_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading '."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """UTF-8 with a byte-order mark (Excel then reads Vietnamese right), CRLF, text cells."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def qr_pixels(link: str) -> tuple[int, bytes]:
    """The QR code of ``link`` (level M, the standard's mask choice, 4 modules of quiet zone) as
    grey pixels, one a module: its side and the pixel bytes (0 is a dark module)."""
    code = zxingcpp.create_barcode(link, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = code.to_image(scale=1, add_quiet_zones=True)
    side = int(image.shape[0])
    return side, bytes(memoryview(image))  # type: ignore[arg-type]  # a buffer, unstubbed


def qr_matrix(link: str) -> list[list[bool]]:
    """The QR code of ``link``, quiet zone included: True is a dark module."""
    side, pixels = qr_pixels(link)
    return [[pixels[r * side + c] < 128 for c in range(side)] for r in range(side)]


def qr_image(side: int, pixels: bytes) -> Image.Image:
    image = Image.frombytes("L", (side, side), pixels)
    return image.resize((side * MODULE_PX, side * MODULE_PX), Image.Resampling.NEAREST)


def pages_for(count: int) -> int:
    return max(1, -(-count // PER_PAGE))


def card_origin(index: int) -> tuple[float, float]:
    """Top-left corner (mm) of the ``index``-th card on its page."""
    slot = index % PER_PAGE
    return MARGIN + (slot % COLUMNS) * CARD_W, MARGIN + HEADER_H + (slot // COLUMNS) * CARD_H


def sheet_pdf(
    cards: Sequence[Card], header: str, page_label: Callable[[int, int], str], footer: str = ""
) -> bytes:
    """The printable sheet: ``header`` and ``page_label(page, pages)`` on top of every page,
    ``footer`` under it."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_creator("fieldbot")
    for style in FONT_FILES:
        pdf.add_font(FONT_FAMILY, style, str(font_path(style)))
    pages = pages_for(len(cards))
    for index, card in enumerate(cards):
        if index % PER_PAGE == 0:
            pdf.add_page()
            _page_header(pdf, header, page_label(index // PER_PAGE + 1, pages), footer)
        _card(pdf, card, qr_image(*qr_pixels(card.link)), *card_origin(index))
    if not cards:
        pdf.add_page()
        _page_header(pdf, header, page_label(1, 1), footer)
    return bytes(pdf.output())


def _page_header(pdf: FPDF, header: str, page: str, footer: str) -> None:
    pdf.set_font(FONT_FAMILY, "", HEADER_PT)
    pdf.set_text_color(60)
    page_w = pdf.get_string_width(page) + 2
    pdf.set_xy(MARGIN, MARGIN)
    room = PAGE_W - 2 * MARGIN - page_w - 2
    pdf.cell(room, HEADER_H - 2, _fit(pdf, _nfc(header), room))
    pdf.set_xy(PAGE_W - MARGIN - page_w, MARGIN)
    pdf.cell(page_w, HEADER_H - 2, page, align="R")
    if footer:
        pdf.set_xy(MARGIN, PAGE_H - MARGIN + 1)
        width = PAGE_W - 2 * MARGIN
        pdf.cell(width, LINE_H, _fit(pdf, _nfc(footer), width), align="C")
    pdf.set_text_color(0)


def _card(pdf: FPDF, card: Card, qr: Image.Image, x: float, y: float) -> None:
    pdf.set_draw_color(190)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=1, gap=1)
    pdf.rect(x, y, CARD_W, CARD_H)
    pdf.set_dash_pattern()
    pdf.image(qr, x + (CARD_W - QR_SIDE) / 2, y + QR_TOP, QR_SIDE, QR_SIDE)
    pdf.set_font(FONT_FAMILY, "B", NAME_PT)
    width = CARD_W - 4
    lines = _lines(pdf, _nfc(card.name), width)
    top = y + QR_TOP + QR_SIDE + 1
    for n, line in enumerate(lines):
        pdf.set_xy(x + 2, top + n * LINE_H)
        pdf.cell(width, LINE_H, line, align="C")
    pdf.set_font(FONT_FAMILY, "", CODE_PT)
    pdf.set_xy(x + 2, top + len(lines) * LINE_H + 0.5)
    pdf.cell(width, LINE_H, _fit(pdf, card.code, width), align="C")


def _lines(pdf: FPDF, text: str, width: float) -> list[str]:
    """``text`` wrapped to ``width``, at most NAME_LINES lines, the last one cut with … ."""
    if pdf.get_string_width(text) <= width:
        return [text]
    wrapped = pdf.multi_cell(width, LINE_H, text, dry_run=True, output="LINES", align="C")
    lines = [str(line) for line in cast(list[str], wrapped)]
    if len(lines) <= NAME_LINES:
        return lines
    return [*lines[: NAME_LINES - 1], _fit(pdf, " ".join(lines[NAME_LINES - 1 :]), width)]


def _fit(pdf: FPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def check_writable(paths: Iterable[Path]) -> None:
    """Fail now (OSError) if one of ``paths`` cannot be written, before any work is done."""
    for path in paths:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        try:
            _make_folder(path.parent)
            probe = _aside(path)
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
            probe.unlink()
        except OSError as exc:  # named by the file asked for, not by the probe
            raise OSError(exc.errno, exc.strerror, str(path)) from exc


def write_private(files: Mapping[Path, bytes]) -> None:
    """Write every file owner-only, all or none: each is written aside, then moved in place."""
    written: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            try:
                _make_folder(path.parent)
                aside = _aside(path)
                descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
                written[path] = aside
                with os.fdopen(descriptor, "wb") as file:
                    file.write(data)
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, str(path)) from exc
        for path, aside in written.items():
            os.replace(aside, path)
    finally:
        for aside in written.values():
            aside.unlink(missing_ok=True)


def _aside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")


def _make_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parent owner-only; an existing folder is left alone."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is reduced by the umask
