"""Search as a person meets it, in a window of 800×600 (and 680, where the toolbar
overflows): Ctrl+F always reaches the search field, a search inside a folder says so and
offers "Search all images", and the window's parts all fit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .xdesk import AppProcess, XServer, center

IMAGES = [(f"café-{n:02}.jpg", "Trip" if n % 2 else None) for n in range(12)]


@pytest.fixture(scope="module")
def app(launch: Callable[..., AppProcess], filled_library: Callable[..., Path]) -> AppProcess:
    return launch(size=(800, 600), library=filled_library("Search", IMAGES, size=160))


def inside(rect: list[int] | None, window: list[int]) -> bool:
    if rect is None:
        return False
    x, y, w, h = rect
    return (
        x >= window[0]
        and y >= window[1]
        and x + w <= window[0] + window[2]
        and (y + h <= window[1] + window[3])
    )


def test_the_window_is_usable_at_800_by_600(xserver: XServer, app: AppProcess) -> None:
    state = app.wait_state(lambda s: len(s["cells"]) >= 2, "thumbnails shown")
    window = state["widgets"]["window"]
    assert window[2:] == [800, 600]
    for part in ("grid", "tree", "search", "sort", "details", "toolbar"):
        assert inside(state["widgets"][part], window), f"{part} does not fit: {state['widgets']}"
    columns = {c["rect"][0] for c in state["cells"]}
    assert len(columns) >= 2, "the grid shows at least two columns"
    xserver.click(*center(state["cells"][0]["rect"]))
    state = app.wait_state(lambda s: s["widgets"]["alt"] is not None, "the editor shown")
    assert inside(state["widgets"]["alt"], window)


@pytest.mark.parametrize("width", [800, 680])  # at 680 the toolbar overflows
def test_ctrl_f_reaches_the_search_field(xserver: XServer, app: AppProcess, width: int) -> None:
    xserver.xdotool("windowsize", "--sync", app.window_id, width, 600)
    app.wait_state(lambda s: s["widgets"]["window"][2] == width, f"{width} px wide")
    # Not the image clicked just before: two clicks there would be a double-click.
    xserver.click(*center(app.state()["cells"][1 if width == 800 else 0]["rect"]))
    app.wait_state(lambda s: s["focus"] == "Images", "the grid focused")
    xserver.key("ctrl+f")
    state = app.wait_state(lambda s: s["focus"] == "Search", "the search field focused")
    assert inside(state["widgets"]["search"], state["widgets"]["window"])
    xserver.type("caf")
    app.wait_state(lambda s: s["search_text"] == "caf" and s["total"] == 12, "searched")
    xserver.key("ctrl+a")
    xserver.key("BackSpace")
    app.wait_state(lambda s: s["search_text"] == "" and s["total"] == 12, "the search cleared")
    xserver.xdotool("windowsize", "--sync", app.window_id, 800, 600)
    app.wait_state(lambda s: s["widgets"]["window"][2] == 800 and s["total"] == 12, "back")


def test_a_search_in_a_folder_says_so_and_offers_all_images(
    xserver: XServer, app: AppProcess
) -> None:
    xserver.click(*center(app.state()["places"]["folder:Trip"]))
    app.wait_state(lambda s: s["place"] == "folder:Trip" and s["total"] == 6, "Trip shown")
    assert app.state()["widgets"]["scope"] is None  # no search: nothing to say
    xserver.key("ctrl+f")
    app.wait_state(lambda s: s["focus"] == "Search", "the search field focused")
    # Typed without the accent: the search ignores accents (cafe finds café), and xdotool
    # types plain ASCII reliably (a keysym outside the keymap is remapped on the fly, which
    # an app can miss under load).
    xserver.type("cafe")
    state = app.wait_state(
        lambda s: s["total"] == 6 and s["widgets"]["scope"] is not None, "the scope said"
    )
    xserver.click(*center(state["widgets"]["search_all"]))
    state = app.wait_state(lambda s: s["place"] == "all" and s["total"] == 12, "all searched")
    assert state["search_text"] == "cafe" and state["widgets"]["scope"] is None
