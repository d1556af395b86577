"""The core stands alone: importing ``imageshelf.app.library`` (and using it) pulls in neither Qt
nor Flask, so it can run headless and be tested fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import io, sys, tempfile
import imageshelf.app.library
from imageshelf.app.library import Library
from imageshelf.app.library.importer import ImportSession, collect
from PIL import Image

with tempfile.TemporaryDirectory() as tmp, Library.open(tmp) as lib:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    rec = lib.add(io.BytesIO(out.getvalue()), "a.png")
    lib.thumbnail(rec.id)
    lib.list_images(search="abc")
forbidden = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "flask", "werkzeug", "waitress")
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in forbidden)))
"""


def test_the_core_imports_neither_qt_nor_flask() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == ""
