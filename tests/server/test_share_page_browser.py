"""The share page in a real browser (headless Chromium, installed by scripts/bootstrap.sh):
the images load through ``/s/{token}/i/…`` and render, each with its alt text, on a
desktop-wide and a phone-wide window."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.server.http_helpers import TOKEN

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (scripts/bootstrap.sh does it)"
)
COLOURS = {"red": (220, 20, 20), "green": (20, 160, 40), "blue": (20, 40, 200)}


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.alts: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img" and "/i/" in (found.get("src") or ""):
            self.alts[(found["src"] or "").split("/i/")[1].split("?")[0]] = found.get("alt")


def _chromium(tmp: Path, *args: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # tests may run as root (a container)
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={tmp / 'chromium-profile'}",
            # Wait for the page's images (virtual time moves on once the network is idle).
            "--virtual-time-budget=10000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def shared(library: Library) -> Iterator[tuple[str, dict[str, str]]]:
    """A live server and a share of three coloured images: (page URL, id → colour)."""
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    try:
        ids: dict[str, str] = {}
        alts = {"red": "A red square of paint", "green": "", "blue": 'Blue & "quoted" <b>'}
        for name, rgb in COLOURS.items():
            record = library.add(
                io.BytesIO(image_bytes("PNG", size=(900, 600), color=rgb)),
                f"{name}.png",
                alt_text=alts[name],
            )
            ids[record.id] = name
        made = library.shares.create(image_ids=list(ids), expires_in=3600)
        yield f"{server.base_url}/s/{made.token}", ids
    finally:
        server.stop()


def test_the_browser_shows_every_image_with_its_alt_text(
    shared: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, ids = shared
    dom = _chromium(tmp_path, "--dump-dom", url)
    parser = _Images()
    parser.feed(dom)
    by_colour = {ids[i]: alt for i, alt in parser.alts.items()}
    assert by_colour == {"red": "A red square of paint", "green": "", "blue": 'Blue & "quoted" <b>'}


@pytest.mark.parametrize("width", [1200, 390])  # a desktop window, a phone
def test_the_images_render_on_a_desktop_and_a_phone(
    shared: tuple[str, dict[str, str]], tmp_path: Path, width: int
) -> None:
    url, _ = shared
    shot = tmp_path / "page.png"
    _chromium(tmp_path, f"--screenshot={shot}", f"--window-size={width},2400", url)
    with Image.open(shot) as img:
        pixels = img.convert("RGB")
        assert pixels.width == width
        seen = {c for _, c in pixels.getcolors(maxcolors=1 << 20) or []}
    for name, (r, g, b) in COLOURS.items():
        near = [c for c in seen if abs(c[0] - r) + abs(c[1] - g) + abs(c[2] - b) <= 24]
        assert near, f"the {name} image did not render"
