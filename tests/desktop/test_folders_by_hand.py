"""Folders, the import list, server settings, libraries and About as a person reaches
them: right-click and keys on the folder tree, a folder dragged onto another through the
X server, keystrokes into the dialogs. What each gesture did is checked in the library
(its database, read only) and on disk; what was said, in the window's open dialogs."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from imageshelf.app.library import Library, LibraryLocked
from tests.conftest import image_bytes

from .xdesk import AppProcess, XServer, center, wait_for

IMAGES = [("src", "a.jpg"), ("src/inner", "b.jpg"), ("dest", "c.jpg"), ("full", "d.jpg")]


@pytest.fixture(scope="module")
def library_dir(desk_home: Path) -> Path:
    path = desk_home / "Folders ñ"
    with Library.open(path) as lib:
        for i, (folder, name) in enumerate(IMAGES):
            data = image_bytes(size=(90 + i, 60), color=(i * 60 % 256, 90, 40))
            lib.add(io.BytesIO(data), name, alt_text=f"alt {i} é", folder=folder)
    return path


@pytest.fixture(scope="module")
def app(launch: Callable[..., AppProcess], library_dir: Path) -> AppProcess:
    return launch(library=library_dir)


def place(app: AppProcess, folder: str) -> tuple[int, int]:
    rect = app.wait_state(lambda s: s["places"].get(f"folder:{folder}"), f"{folder} in the tree")
    return center(rect["places"][f"folder:{folder}"])


def dialog(app: AppProcess, title: str) -> dict:
    """Waits for a window titled ``title`` (a dialog or message box) to be open."""
    state = app.wait_state(
        lambda s: any(w["title"] == title for w in s["windows"]), f"the {title!r} window"
    )
    return next(w for w in state["windows"] if w["title"] == title)


def closed(app: AppProcess, title: str) -> None:
    app.wait_state(lambda s: all(w["title"] != title for w in s["windows"]), f"{title} closed")


def folder_of(app: AppProcess, name: str) -> tuple[str, str]:
    return app.images()[name]


def test_rename_from_the_folder_menu_by_right_click_and_keys(
    xserver: XServer, app: AppProcess
) -> None:
    ids = dict(app.rows("SELECT original_filename, id FROM images"))
    xserver.click(*place(app, "src"), button=3)
    app.wait_state(lambda s: any(w["class"] == "QMenu" for w in s["windows"]), "the menu")
    xserver.key("r")  # &Rename folder…
    dialog(app, "Rename folder")
    xserver.key("ctrl+a")
    xserver.type("Renamed")  # ASCII: xdotool types other letters by remapping keys, unreliably
    xserver.key("Return")
    wait_for(lambda: folder_of(app, "a.jpg")[0] == "Renamed", "the folder renamed")
    assert folder_of(app, "b.jpg") == ("Renamed/inner", "alt 1 é")
    assert dict(app.rows("SELECT original_filename, id FROM images")) == ids  # ids kept
    assert (app.library / "Renamed" / "inner" / "b.jpg").is_file()
    assert not (app.library / "src").exists()


def test_a_folder_dragged_onto_another_moves_into_it(xserver: XServer, app: AppProcess) -> None:
    start, end = place(app, "Renamed"), place(app, "dest")
    app.drag(start, end, over=lambda: app.state()["drop_hover"] == "folder:dest")
    wait_for(lambda: folder_of(app, "a.jpg")[0] == "dest/Renamed", "the folder moved")
    assert folder_of(app, "b.jpg")[0] == "dest/Renamed/inner"
    assert (app.library / "dest" / "Renamed" / "a.jpg").is_file()


def test_include_sub_folders_by_keys(xserver: XServer, app: AppProcess) -> None:
    app.focus()  # keys go to the active window; no window manager keeps it so
    xserver.click(*place(app, "dest"))
    app.wait_state(lambda s: s["place"] == "folder:dest" and s["total"] == 1, "dest alone")
    xserver.key("ctrl+shift+i")
    app.wait_state(lambda s: s["total"] == 3, "dest with its sub-folders")
    xserver.key("ctrl+shift+i")
    app.wait_state(lambda s: s["total"] == 1, "dest alone again")


def test_delete_key_on_a_folder_asks_then_sends_its_images_to_the_trash(
    xserver: XServer, app: AppProcess
) -> None:
    app.focus()
    xserver.click(*place(app, "full"))
    app.wait_state(lambda s: s["place"] == "folder:full", "full shown")
    xserver.key("Delete")
    dialog(app, "Delete folder?")
    xserver.key("Return")  # the default answer is Cancel
    closed(app, "Delete folder?")
    assert (app.library / "full" / "d.jpg").is_file()
    app.focus()
    xserver.key("Delete")
    dialog(app, "Delete folder?")
    xserver.key("y")  # &Yes
    wait_for(lambda: not (app.library / "full").exists(), "the folder deleted")
    assert app.rows("SELECT original_filename FROM trash") == [("d.jpg",)]


def test_several_selected_show_a_summary(xserver: XServer, app: AppProcess) -> None:
    app.focus()
    xserver.click(*place(app, "dest"))
    xserver.key("ctrl+shift+i")
    app.wait_state(lambda s: s["total"] == 3 and len(s["cells"]) == 3, "three shown")
    xserver.click(*center(app.state()["cells"][0]["rect"]))
    xserver.key("ctrl+a")
    state = app.wait_state(lambda s: len(s["selected"]) == 3, "all three selected")
    assert state["details_heading"] == "3 images selected"
    xserver.key("ctrl+shift+i")


def test_import_lists_every_file_left_out(xserver: XServer, app: AppProcess, desk_home) -> None:
    shoot = desk_home / "shoot"
    (shoot / ".cache").mkdir(parents=True)
    (shoot / "new.jpg").write_bytes(image_bytes(color=(1, 250, 1)))
    (shoot / ".hidden.jpg").write_bytes(image_bytes(color=(2, 250, 1)))
    (shoot / "notes.txt").write_text("not an image")
    xserver.key("ctrl+shift+o")
    dialog(app, "Add a folder of images")
    xserver.type(str(shoot))
    xserver.key("Return")
    summary = dialog(app, "Import finished")
    wait_for(lambda: "new.jpg" in app.images(), "the image imported")
    assert {".hidden.jpg", "notes.txt"}.isdisjoint(app.images())
    # No window manager gives the list the focus: its Close button, bottom right, by mouse.
    x, y, w, h = summary["rect"]
    xserver.click(x + w - 45, y + h - 22)
    closed(app, "Import finished")


def test_a_port_in_use_leaves_the_server_where_it_was(xserver: XServer, app: AppProcess) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        app.focus()  # back from the import list: no window manager hands the focus back
        xserver.key("ctrl+comma")
        settings = dialog(app, "Server settings")
        xserver.key("ctrl+a")
        xserver.type(str(taken.getsockname()[1]))
        xserver.key("Return")
        dialog(app, "The port could not be used")
        xserver.key("Return")
        closed(app, "The port could not be used")
    # Cancel (bottom right) by mouse: without a window manager the focus stays put.
    x, y, w, h = settings["rect"]
    xserver.click(x + w - 40, y + h - 22)
    closed(app, "Server settings")
    assert app.state()["server_running"]


def test_a_new_folder_made_by_keys_lasts_across_a_restart(
    xserver: XServer, app: AppProcess, launch: Callable[..., AppProcess], library_dir: Path
) -> None:
    app.focus()
    xserver.click(*center(app.state()["places"]["all"]))
    xserver.key("ctrl+shift+n")
    dialog(app, "New folder")
    xserver.type("Made by hand")
    xserver.key("Return")
    app.wait_state(lambda s: "folder:Made by hand" in s["places"], "the new folder shown")
    assert (library_dir / "Made by hand").is_dir()
    app.close()
    again = launch(library=library_dir)
    again.wait_state(lambda s: "folder:Made by hand" in s["places"], "still there after a restart")
    again.close()


def _free(path: Path) -> bool:
    """Whether another program could open the library at ``path`` now."""
    try:
        Library.open(path, reconcile=False).close()
    except LibraryLocked:
        return False
    return True


@pytest.fixture
def second_library(desk_home: Path) -> Iterator[Path]:
    path = desk_home / "Second library"
    path.mkdir(exist_ok=True)
    yield path


def test_open_another_library_and_about_by_keys(
    xserver: XServer, launch: Callable[..., AppProcess], desk_home: Path, second_library: Path
) -> None:
    first = launch(library=desk_home / "First library")
    xserver.click(*center(first.state()["menus"]["File"]))
    first.wait_state(lambda s: any(w["class"] == "QMenu" for w in s["windows"]), "the menu")
    xserver.key("l")  # Open &library…
    dialog(first, "Open library")
    xserver.type(str(second_library))
    xserver.key("Return")
    first.wait_state(lambda s: s["library"] == str(second_library), "the new library's window")
    # The first library is closed (on a worker, just after): another program may open it.
    wait_for(lambda: _free(desk_home / "First library"), "the first library to be closed")
    xserver.click(*center(first.state()["menus"]["Help"]))
    first.wait_state(lambda s: any(w["class"] == "QMenu" for w in s["windows"]), "the menu")
    xserver.key("a")  # &About Imageshelf
    dialog(first, "About Imageshelf")
    xserver.key("Return")
    closed(first, "About Imageshelf")
