"""Delete and Undo as a person presses them: a click on a thumbnail, the Delete key, then
Ctrl+Z and Ctrl+Shift+Z, through the X server into the real app. What each did is read in
the library's database (the image in the trash or back, same id)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from imageshelf.app.library import Library
from tests.conftest import image_bytes

from .xdesk import AppProcess, XServer, center, wait_for


def test_delete_key_then_ctrl_z_then_ctrl_shift_z(
    xserver: XServer, launch: Callable[..., AppProcess], desk_home: Path
) -> None:
    library = desk_home / "Trash keys ñ"
    with Library.open(library) as lib:
        kept = lib.add(io.BytesIO(image_bytes("PNG", (140, 90))), "kept.png")
        doomed = lib.add(io.BytesIO(image_bytes("JPEG", (150, 90))), "doomed.jpg", "A kite")
    app = launch(library=library)
    state = app.wait_state(lambda s: len(s["cells"]) == 2, "both thumbnails shown")
    cell = next(c for c in state["cells"] if c["name"] == "doomed.jpg")

    def where(image_id: str) -> str:
        if app.rows("SELECT 1 FROM images WHERE id = ?", image_id):
            return "live"
        if app.rows("SELECT 1 FROM trash WHERE id = ? AND intent IS NULL", image_id):
            return "trash"
        return "?"

    xserver.click(*center(cell["rect"]))
    app.wait_state(lambda s: s["selected"] == [doomed.id], "the thumbnail selected")
    xserver.key("Delete")
    wait_for(lambda: where(doomed.id) == "trash", "the image moved to the trash")
    app.wait_state(lambda s: s["total"] == 1, "the grid without it")
    assert not app.state()["windows"]  # no "are you sure?" box
    assert where(kept.id) == "live"

    xserver.key("ctrl+z")
    wait_for(lambda: where(doomed.id) == "live", "the image back after Ctrl+Z")
    assert app.rows("SELECT alt_text, filename FROM images WHERE id = ?", doomed.id) == [
        ("A kite", "doomed.jpg")
    ]
    app.wait_state(lambda s: s["total"] == 2, "the grid with it again")

    xserver.key("ctrl+shift+z")
    wait_for(lambda: where(doomed.id) == "trash", "in the trash again after Ctrl+Shift+Z")
