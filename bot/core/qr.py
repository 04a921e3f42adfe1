"""QR codes for invitation links (PNG, pure Python).

A QR code holds a live invitation: whoever reads the file can join. Files are written readable
by their owner only (0600), and a folder created for them is the owner's only (0700).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import qrcode
from qrcode.image.pure import PyPNGImage

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def qr_png(data: str) -> bytes:
    image = qrcode.make(data, image_factory=PyPNGImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def _make_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parent owner-only; an existing folder is left alone."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is reduced by the umask


def write_qr(data: str, path: Path) -> Path:
    _make_folder(path.parent)
    # Opened with the final mode so the code is never readable by others, even for a moment.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), FILE_MODE)  # a file that existed keeps its old mode otherwise
        file.write(qr_png(data))
    return path
