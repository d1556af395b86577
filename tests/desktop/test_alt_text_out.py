"""Alt text leaving the app through real input (issue 18): thumbnails dragged into another
program carry ``<img src="…/i/{id}" alt="…">`` as HTML, and Copy as HTML / Markdown
(Ctrl+Shift+C, Ctrl+Shift+M) put it on the X clipboard for another program to paste."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from imageshelf.app.library import Library
from tests.conftest import image_bytes

from .xdesk import ROOT, AppProcess, Helper, XServer, center, wait_for

TARGET_AT = (1040, 560)
ALT = 'A "red" kite & the sea'


@pytest.fixture(scope="module")
def app(launch: Callable[..., AppProcess], desk_home: Path) -> AppProcess:
    library = desk_home / "Described ñ"
    with Library.open(library) as lib:
        lib.add(io.BytesIO(image_bytes("JPEG", size=(160, 120))), "kite.jpg", alt_text=ALT)
    return launch(library=library)


def _select_only(xserver: XServer, app: AppProcess) -> dict:
    state = app.wait_state(lambda s: s["cells"], "thumbnails shown")
    cell = state["cells"][0]
    xserver.click(*center(cell["rect"]))
    app.wait_state(lambda s: len(s["selected"]) == 1, "the image selected")
    return cell


def _image_id(app: AppProcess) -> str:
    [(image_id,)] = app.rows("SELECT id FROM images")
    return str(image_id)


def test_a_thumbnail_dragged_into_an_editor_carries_its_html(
    xserver: XServer, app: AppProcess, helper: Callable[..., Helper], desk_home: Path
) -> None:
    out = desk_home / "html-drop.json"
    target = helper("drop_target", *TARGET_AT, out)
    cell = _select_only(xserver, app)
    app.drag(
        center(cell["rect"]), center(target.rect), over=lambda: out.with_suffix(".over").exists()
    )
    received = wait_for(lambda: json.loads(out.read_text()), "the drop received")
    assert "text/html" in received["formats"] and "text/uri-list" in received["formats"]
    image_id = _image_id(app)
    expected = f'/i/{image_id}" alt="A &quot;red&quot; kite &amp; the sea">'
    assert expected in received["html"], received
    assert expected in received["text"]  # a plain-text editor gets the same HTML


def _clipboard(xserver: XServer, home: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.desktop.clipboard"],
        cwd=ROOT,
        env=xserver.env(home),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_copy_as_html_and_markdown_with_the_keyboard(
    xserver: XServer, app: AppProcess, desk_home: Path
) -> None:
    _select_only(xserver, app)
    app.focus()
    image_id = _image_id(app)
    xserver.key("ctrl+shift+c")
    html = wait_for(
        lambda: (_clipboard(xserver, desk_home / "clip").get("html") or "") or None,
        "HTML on the clipboard",
    )
    assert f'/i/{image_id}" alt="A &quot;red&quot; kite &amp; the sea">' in html
    xserver.key("ctrl+shift+m")
    text = wait_for(
        lambda: (
            (_clipboard(xserver, desk_home / "clip").get("text") or "").startswith("![")
            and _clipboard(xserver, desk_home / "clip")["text"]
        ),
        "Markdown on the clipboard",
    )
    assert text.startswith('![A "red" kite & the sea](http')
    assert text.endswith(f"/i/{image_id})")
