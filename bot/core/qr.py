"""QR codes for invitation links (PNG, pure Python)."""

from __future__ import annotations

import io
from pathlib import Path

import qrcode
from qrcode.image.pure import PyPNGImage


def qr_png(data: str) -> bytes:
    image = qrcode.make(data, image_factory=PyPNGImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def write_qr(data: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(qr_png(data))
    return path
