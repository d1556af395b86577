"""The decode workers' fork server starts from a fresh interpreter importing
``decode_workers`` alone (``decode_workers._context``): a dropped card's worth of photos
waits for that import before its first photo is decoded. It must not bring the database
layer with it (``Library`` is imported on first use by the package), while everything
that names ``imageshelf.app.library.Library`` keeps working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

import imageshelf.app.library as package
from imageshelf.app.library import Library
from imageshelf.app.library.library import Library as DefinedHere


def _modules_after(statement: str) -> dict[str, bool]:
    probe = (
        f"{statement}\nimport json, sys\n"
        "print(json.dumps({name: name in sys.modules for name in "
        "('sqlalchemy', 'imageshelf.app.library.library', 'PIL.Image')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    loaded: dict[str, bool] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_the_fork_servers_import_leaves_the_database_layer_out(tmp_path: Path) -> None:
    loaded = _modules_after(
        "import importlib\nfrom imageshelf.app.library import decode_workers\n"
        "for name in decode_workers.FORK_SERVER_PRELOAD:\n    importlib.import_module(name)"
    )
    assert loaded == {
        "sqlalchemy": False,
        "imageshelf.app.library.library": False,
        "PIL.Image": True,  # what the workers do need, imported once by the fork server
    }
    # Nor does a worker's work bring it in later: a photo examined in place and copied.
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (1200, 900), (90, 140, 200)).save(photo, "JPEG")
    (tmp_path / "tmp").mkdir()
    loaded = _modules_after(
        "from imageshelf.app.library import decode_workers as d\n"
        f"assert isinstance(d.examine_in_place({str(photo)!r}), d.Examined)\n"
        f"copied = d.examine_copy({str(photo)!r}, {str(tmp_path / 'tmp')!r})\n"
        "assert isinstance(copied, d.Examined) and copied.tmp.stat().st_size > 0"
    )
    assert not loaded["sqlalchemy"]
    assert not loaded["imageshelf.app.library.library"]


def test_library_is_still_the_packages_name_for_it() -> None:
    assert Library is DefinedHere
    assert package.Library is DefinedHere
    assert "Library" in package.__all__
    loaded = _modules_after("from imageshelf.app.library import *\nassert Library")
    assert loaded["imageshelf.app.library.library"]


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    try:
        package.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")


def test_a_library_on_disk_opens_without_the_postgresql_driver(tmp_path: Path) -> None:
    """psycopg is ≈ 0.15 s of imports that a launch on a folder library (nearly every one)
    paid before its first paint when a PostgreSQL-only module imported it at the top."""
    probe = (
        "import sys\nfrom imageshelf.app.library import Library\n"
        f"Library.open({str(tmp_path / 'lib')!r}, reconcile=False).close()\n"
        "import imageshelf.app.ui.main_window\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'psycopg'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


# What a launch on a folder library does not import before its first screen, and why each
# is left for later (docs/performance.md, "6 — The window"): each one put back at the top
# of a module on the launch path makes this test fail.
NOT_AT_LAUNCH = (
    "PIL.Image",  # Pillow: the grid's thumbnails are read by Qt; decodes import it
    "imageshelf.app.library.imaging",
    "imageshelf.app.library.transform_render",
    "ulid",  # python-ulid (and importlib.metadata's email chain): when an id is made
    "segno",  # the server dialog's QR code
    "imageshelf.app.ui.viewer",
    "imageshelf.app.ui.server_dialog",
    "imageshelf.app.ui.export_dialog",
    "imageshelf.app.library.export",
    "imageshelf.app.ui.share_dialog",
    "imageshelf.app.ui.shared_links",
    "imageshelf.app.ui.url_import",
    "imageshelf.app.ui.paste",
)


def test_a_window_on_a_folder_library_is_built_without_what_its_first_screen_does_not_use(
    tmp_path: Path,
) -> None:
    """The launch as ``benchmarks/gui_probe.py`` times it: the library opened, the window
    built and shown. Each module here was imported at the top of one on that path."""
    probe = (
        "import os, sys, tempfile\nos.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtCore import QSettings\nfrom PySide6.QtWidgets import QApplication\n"
        "import imageshelf.app.ui.main_window, imageshelf.app.ui.server_control\n"
        "from imageshelf.app.library import Library\n"
        "from imageshelf.app.ui.main_window import MainWindow\n"
        "from imageshelf.app.ui.server_control import ServerController\n"
        "app = QApplication([])\n"
        f"library = Library.open({str(tmp_path / 'lib')!r}, reconcile=False)\n"
        f"settings = QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat)\n"
        "win = MainWindow(library, settings, ServerController(library, port=0))\n"
        "win.show()\napp.processEvents()\n"
        f"print(sorted(n for n in {NOT_AT_LAUNCH!r} if n in sys.modules))\n"
        "sys.stdout.flush()\nos._exit(0)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
