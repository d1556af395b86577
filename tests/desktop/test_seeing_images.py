"""Seeing images: the thumbnail size (Ctrl+plus/minus and the slider), remembered across
a restart, and the viewer (Space, double-click) with fit / 100 % and next / previous,
all from the keyboard and mouse through the X server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .xdesk import AppProcess, XServer, center

IMAGES = [(f"big-{n}.jpg", None) for n in range(4)]


@pytest.fixture(scope="module")
def library(filled_library: Callable[..., Path]) -> Path:
    return filled_library("Seeing", IMAGES, size=1600)  # bigger than the viewer


def cell_width(s: dict) -> int:
    return int(s["cells"][0]["rect"][2])


def test_thumbnail_size_from_the_keyboard_and_remembered(
    xserver: XServer, launch: Callable[..., AppProcess], library: Path
) -> None:
    app = launch(library=library)
    state = app.wait_state(lambda s: len(s["cells"]) == 4, "thumbnails shown")
    side, width = state["thumb_side"], cell_width(state)
    xserver.click(*center(state["cells"][0]["rect"]))
    xserver.key("ctrl+plus", "ctrl+plus")
    bigger = app.wait_state(lambda s: s["thumb_side"] > side * 1.4, "bigger thumbnails")
    app.wait_state(lambda s: cell_width(s) > width * 1.3, "bigger cells")
    xserver.key("ctrl+minus", "ctrl+minus", "ctrl+minus")
    smaller = app.wait_state(lambda s: s["thumb_side"] < side, "smaller thumbnails")
    assert smaller["thumb_side"] < bigger["thumb_side"]
    app.close()
    again = launch(library=library, home=app.home)  # the same settings: a restart
    again.wait_state(lambda s: s["thumb_side"] == smaller["thumb_side"], "the size remembered")
    again.close()


@pytest.fixture(scope="module")
def viewer_app(launch: Callable[..., AppProcess], library: Path) -> AppProcess:
    return launch(library=library)


def test_space_opens_the_viewer_with_fit_and_100(xserver: XServer, viewer_app: AppProcess):
    app = viewer_app
    state = app.wait_state(lambda s: len(s["cells"]) == 4, "thumbnails shown")
    first = state["cells"][0]
    xserver.click(*center(first["rect"]))
    app.wait_state(lambda s: s["selected"] == [first["id"]], "the first image selected")
    xserver.key("space")
    shown = app.wait_state(
        lambda s: s["viewer"] and s["viewer"]["id"] == first["id"] and s["viewer"]["shown"],
        "the viewer showing the image",
    )["viewer"]
    assert shown["mode"] == "fit"
    assert shown["shown"][0] <= shown["area"][0] and shown["shown"][1] <= shown["area"][1]
    xserver.key("1")
    actual = app.wait_state(lambda s: s["viewer"]["mode"] == "100%", "100 %")["viewer"]
    assert actual["shown"][0] >= 1600  # the real pixels, scrolled, not squeezed
    xserver.key("f")
    app.wait_state(lambda s: s["viewer"]["mode"] == "fit", "fit again")


def test_the_viewer_goes_next_and_previous_and_the_grid_follows(
    xserver: XServer, viewer_app: AppProcess
) -> None:
    app = viewer_app
    ids = [c["id"] for c in app.state()["cells"]]
    xserver.key("Right")
    app.wait_state(lambda s: s["viewer"]["id"] == ids[1] and s["selected"] == [ids[1]], "next")
    xserver.key("Right", "Right")
    app.wait_state(lambda s: s["viewer"]["id"] == ids[3], "the last")
    xserver.key("Right")  # past the last: stays
    xserver.key("Left")
    app.wait_state(lambda s: s["viewer"]["id"] == ids[2] and s["selected"] == [ids[2]], "back")
    xserver.key("Escape")
    app.wait_state(lambda s: s["viewer"] is None, "the viewer closed")
    assert app.state()["selected"] == [ids[2]]  # where the person left off


def test_a_double_click_opens_the_viewer(xserver: XServer, viewer_app: AppProcess) -> None:
    app = viewer_app
    cell = app.state()["cells"][1]
    xserver.click(*center(cell["rect"]), repeat=2)
    app.wait_state(lambda s: s["viewer"] and s["viewer"]["id"] == cell["id"], "the viewer")
    xserver.key("space")
    app.wait_state(lambda s: s["viewer"] is None, "closed with Space")


def test_a_launch_freezes_what_its_start_made_once_the_first_screen_is_shown(
    viewer_app: AppProcess,
):
    """The window's modules and widgets are long-lived: the collector stops walking them
    (app/ui/gc_pauses.py) and runs again for everything made after."""
    state = viewer_app.wait_state(
        lambda s: s["gc"]["enabled"] and s["gc"]["frozen"] > 0, "the start-up's objects frozen"
    )
    assert state["gc"]["frozen"] > 10_000  # PySide6, the core, the window: not a few
