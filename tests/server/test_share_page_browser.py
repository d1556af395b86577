"""The share page in a real browser (headless Chromium, installed by scripts/bootstrap.sh):
the images load through ``/s/{token}/i/…`` and render, each with its alt text, on a
desktop-wide and a phone-wide window."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
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
        self.sources: set[str] = set()  # every URL the browser may pick (src and srcset)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img" and "/i/" in (found.get("src") or ""):
            self.alts[(found["src"] or "").split("/i/")[1].split("?")[0]] = found.get("alt")
            self.sources.add(found["src"] or "")
            for entry in (found.get("srcset") or "").split(","):
                self.sources.add(entry.split()[0])


def _made_beforehand(url: str) -> None:
    """Asks for every image the page may show, as a client honouring ``503 busy`` does
    (waiting its ``Retry-After`` and asking again), until each is there. The srcset's
    widths are transforms, made by background-priority workers: on a machine other work
    keeps busy, one can take past the server's 9 s and be answered ``503 busy`` — the
    contract's answer, which a browser shows as a broken image. Made first, the browser
    is served them from the cache: what is tested here is the page, not the machine."""
    parser = _Images()
    parser.feed(requests.get(url, timeout=60).text)
    assert parser.sources
    deadline = time.monotonic() + 300
    for source in parser.sources:
        while True:
            reply = requests.get(urljoin(url, source), timeout=60)
            retry_after = reply.headers.get("Retry-After")
            if reply.status_code != 503 or retry_after is None:
                break
            assert time.monotonic() < deadline, "still busy after 5 minutes"
            time.sleep(int(retry_after))  # as the server says: the contract's back-off
        assert reply.status_code == 200, (source, reply.status_code, reply.text[:200])


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
            # And draw them: by default an image is decoded off the frame that first shows
            # it (``decoding="async"``, "checker-imaging"), so on a loaded machine the
            # screenshot could be taken with loaded images not yet painted (blank boxes).
            # Each frame waits for every stage, decodes included, as Chromium's
            # deterministic mode for screenshots does.
            "--run-all-compositor-stages-before-draw",
            "--disable-checker-imaging",
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
        url = f"{server.base_url}/s/{made.token}"
        _made_beforehand(url)
        yield url, ids
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
