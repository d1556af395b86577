"""Views open at the top: a new folder, search, filter or sort shows its first images; the
selected image stays in sight when the window is resized; newest first shows an import
in its own order. All through the X server: wheel, clicks, keys, a window resize."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .xdesk import AppProcess, Helper, XServer, center, wait_for

IMAGES = [(f"top-{n:02}.jpg", None) for n in range(40)] + [
    (f"trip-{n:02}.jpg", "trip") for n in range(40)
]


@pytest.fixture(scope="module")
def app(launch: Callable[..., AppProcess], filled_library: Callable[..., Path]) -> AppProcess:
    return launch(library=filled_library("Views", IMAGES, size=120))


def scroll_down(x: XServer, app: AppProcess) -> None:
    x.move(*center(app.state()["widgets"]["grid"]))
    x.xdotool("click", "--repeat", 6, "--delay", 30, 5)  # the mouse wheel, down
    app.wait_state(lambda s: s["scroll"] > 300 and s["cells"][0]["row"] > 0, "scrolled down")


def at_top(s: dict) -> bool:
    return s["scroll"] == 0 and bool(s["cells"]) and s["cells"][0]["row"] == 0


def test_a_folder_opens_at_the_top(xserver: XServer, app: AppProcess) -> None:
    app.wait_state(lambda s: s["total"] == 80, "all images shown")
    scroll_down(xserver, app)
    xserver.click(*center(app.state()["places"]["folder:trip"]))
    app.wait_state(lambda s: s["place"] == "folder:trip" and at_top(s), "trip at the top")


def test_a_search_opens_at_the_top(xserver: XServer, app: AppProcess) -> None:
    xserver.click(*center(app.state()["places"]["all"]))
    app.wait_state(lambda s: s["place"] == "all" and s["total"] == 80, "all shown")
    scroll_down(xserver, app)
    xserver.key("ctrl+f")
    app.wait_state(lambda s: s["focus"] == "Search", "the search box focused")
    xserver.type("trip")
    app.wait_state(lambda s: s["total"] == 40 and at_top(s), "the results at the top")
    xserver.key("ctrl+a")
    xserver.key("BackSpace")
    app.wait_state(lambda s: s["total"] == 80 and at_top(s), "all again, at the top")


def test_a_sort_or_filter_opens_at_the_top(xserver: XServer, app: AppProcess) -> None:
    scroll_down(xserver, app)
    xserver.key("ctrl+3")  # View → Sort by → Name
    app.wait_state(lambda s: at_top(s) and s["cells"][0]["name"] == "top-00.jpg", "by name")
    scroll_down(xserver, app)
    xserver.key("ctrl+shift+a")  # the images that need alt text
    app.wait_state(lambda s: s["place"] == "undescribed" and at_top(s), "the filter at the top")
    xserver.key("ctrl+1")  # newest first again
    app.wait_state(lambda s: at_top(s) and s["cells"][0]["name"] == "trip-39.jpg", "newest")


def test_the_selection_stays_in_sight_when_the_window_is_resized(
    xserver: XServer, app: AppProcess
) -> None:
    xserver.key("ctrl+shift+l")
    app.wait_state(lambda s: s["place"] == "all" and at_top(s), "all shown")
    scroll_down(xserver, app)
    state = app.state()
    grid_bottom = state["widgets"]["grid"][1] + state["widgets"]["grid"][3]
    # The lowest image fully on screen: a smaller window would hide it.
    cell = max(
        (c for c in state["cells"] if c["rect"][1] + c["rect"][3] <= grid_bottom),
        key=lambda c: (c["rect"][1], c["rect"][0]),
    )
    xserver.click(*center(cell["rect"]))
    app.wait_state(lambda s: s["selected"] == [cell["id"]], "the image selected")

    def in_sight(s: dict) -> bool:
        grid = s["widgets"]["grid"]
        for c in s["cells"]:
            if c["id"] == cell["id"]:
                top, bottom = c["rect"][1], c["rect"][1] + c["rect"][3]
                return top >= grid[1] and bottom <= grid[1] + grid[3]
        return False

    for size in ((820, 560), (1280, 800), (1000, 420)):
        xserver.xdotool("windowsize", "--sync", app.window_id, *size)
        app.wait_state(
            lambda s, size=size: s["widgets"]["window"][2:] == list(size) and in_sight(s),
            f"the selected image in sight at {size}",
        )
    xserver.xdotool("windowsize", "--sync", app.window_id, 1280, 800)


def test_newest_first_shows_an_import_in_its_order(
    xserver: XServer, app: AppProcess, helper: Callable[..., Helper], files: Callable[..., list]
) -> None:
    names = [f"import-{n}.jpg" for n in range(1, 7)]
    folder = files(*names, under="outside/Batch")[0].parent
    xserver.key("ctrl+shift+l")
    app.wait_state(lambda s: s["widgets"]["window"][2] == 1280 and s["place"] == "all", "all")
    source = helper("drag_source", 1040, 560, folder)
    over = lambda: app.state()["drop_hover"] == "grid"  # noqa: E731
    xserver.drag(center(source.rect), center(app.state()["widgets"]["grid"]), over=over)
    wait_for(lambda: sum(f == "Batch" for f, _ in app.images().values()) == 6, "imported")
    row = app.wait_state(lambda s: "folder:Batch" in s["places"], "Batch in the tree")
    xserver.click(*center(row["places"]["folder:Batch"]))
    state = app.wait_state(lambda s: s["place"] == "folder:Batch" and len(s["cells"]) == 6, "it")
    assert [c["name"] for c in state["cells"]] == names
    assert app.state()["widgets"]["window"][2] == 1280
