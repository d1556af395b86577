"""Drops and drags as a person makes them: from a second program (standing in for the file
manager) onto the grid and the folder tree, between the grid and the tree, and from the
grid out to another program. One app for the module; each test builds on what is there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from .xdesk import AppProcess, Helper, XServer, center, wait_for

SOURCE_AT = (1040, 560)  # over the details pane, out of the way of grid and tree
Files = Callable[..., list[Path]]
Helpers = Callable[..., Helper]


@pytest.fixture(scope="module")
def app(launch: Callable[..., AppProcess]) -> AppProcess:
    return launch()


def drop_files(
    x: XServer, helper: Helpers, paths: list[Path], to: tuple[int, int], over: Callable[[], object]
) -> None:
    source = helper("drag_source", *SOURCE_AT, *paths)
    x.drag(center(source.rect), to, over=over)


def hover_is(app: AppProcess, what: str) -> Callable[[], bool]:
    """The drop target highlighted under the drag: "grid" or "folder:NAME"."""
    return lambda: app.state()["drop_hover"] == what


def test_files_dropped_on_the_grid_import_into_the_folder_shown(
    xserver: XServer, app: AppProcess, helper: Helpers, files: Files
) -> None:
    paths = files("one.jpg", "two.png")
    grid = app.state()["widgets"]["grid"]
    # Anywhere on the grid: here its lower left, far from where thumbnails are. The drop
    # waits for the grid to be highlighted: that is part of what is tested.
    target = (grid[0] + 40, grid[1] + grid[3] - 40)
    drop_files(xserver, helper, paths, target, over=hover_is(app, "grid"))
    wait_for(lambda: {"one.jpg", "two.png"} <= set(app.images()), "the dropped files imported")
    assert app.images()["one.jpg"][0] == ""  # "All images" shown: the top level
    app.wait_state(lambda s: s["drop_hover"] is None, "the highlight gone after the drop")


def test_a_folder_dropped_on_the_grid_keeps_its_name(
    xserver: XServer, app: AppProcess, helper: Helpers, files: Files
) -> None:
    folder = files("a.jpg", "b.jpg", under="outside/Trip")[0].parent
    grid = app.state()["widgets"]["grid"]
    drop_files(xserver, helper, [folder], center(grid), over=hover_is(app, "grid"))
    wait_for(lambda: app.images().get("a.jpg", ("",))[0] == "Trip", "the folder imported")
    app.wait_state(lambda s: "folder:Trip" in s["places"], "the folder in the tree")


def test_files_dropped_on_a_folder_in_the_tree_go_into_it(
    xserver: XServer, app: AppProcess, helper: Helpers, files: Files
) -> None:
    row = app.state()["places"]["folder:Trip"]
    over = hover_is(app, "folder:Trip")
    drop_files(xserver, helper, files("three.jpg"), center(row), over=over)
    wait_for(lambda: app.images().get("three.jpg", ("",))[0] == "Trip", "imported into Trip")


def test_files_dropped_on_the_grid_of_a_folder_go_into_that_folder(
    xserver: XServer, app: AppProcess, helper: Helpers, files: Files
) -> None:
    xserver.click(*center(app.state()["places"]["folder:Trip"]))
    app.wait_state(lambda s: s["place"] == "folder:Trip" and s["total"] == 3, "Trip shown")
    grid = center(app.state()["widgets"]["grid"])
    drop_files(xserver, helper, files("four.jpg"), grid, over=hover_is(app, "grid"))
    wait_for(lambda: app.images().get("four.jpg", ("",))[0] == "Trip", "imported into Trip")


def test_thumbnails_dropped_on_all_images_stay_where_they_are(
    xserver: XServer, app: AppProcess
) -> None:
    state = app.wait_state(lambda s: s["place"] == "folder:Trip" and s["cells"], "Trip shown")
    refused = "Drop images on a folder"
    # Over "All images" the drop is refused, with a word in the status bar...
    app.drag(
        center(state["cells"][0]["rect"]),
        center(state["places"]["all"]),
        over=lambda: refused in app.state()["status"],
    )
    # ...and nothing moved.
    in_trip = [name for name, (folder, _alt) in app.images().items() if folder == "Trip"]
    assert len(in_trip) == 4 and len(app.images()) == 6


def test_thumbnails_dropped_on_a_folder_move_there(xserver: XServer, app: AppProcess) -> None:
    xserver.click(*center(app.state()["places"]["all"]))
    state = app.wait_state(lambda s: s["place"] == "all" and len(s["cells"]) == 6, "all shown")
    cell = next(c for c in state["cells"] if c["name"] == "one.jpg")
    over = hover_is(app, "folder:Trip")
    app.drag(center(cell["rect"]), center(state["places"]["folder:Trip"]), over=over)
    wait_for(lambda: app.images()["one.jpg"][0] == "Trip", "one.jpg moved into Trip")


def test_thumbnails_dragged_out_carry_the_file_and_the_image(
    xserver: XServer, app: AppProcess, helper: Helpers, desk_home: Path
) -> None:
    out = desk_home / "received.json"
    target = helper("drop_target", *SOURCE_AT, out)
    state = app.wait_state(lambda s: s["cells"], "thumbnails shown")
    cell = state["cells"][0]
    # Pressed on, the image is selected alone and dragged (a click first and then a press
    # would be a double-click: the viewer).
    app.drag(
        center(cell["rect"]), center(target.rect), over=lambda: out.with_suffix(".over").exists()
    )
    received = wait_for(lambda: json.loads(out.read_text()), "the drop received")
    assert "text/uri-list" in received["formats"]
    [url] = received["urls"]
    path = Path(unquote(urlparse(url).path))
    assert urlparse(url).scheme == "file" and app.library in path.parents
    assert received["image"]["size"][0] > 100, received  # the picture itself came along
    # A drag out copies, never moves: the file is still in the library.
    assert path.is_file()
    assert received["action"] == "CopyAction"
