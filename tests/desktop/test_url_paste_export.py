"""*Add from URL…*, pasting and *Export…* as a person does them: keys through the X
server, the clipboard owned by another program (xclip), images fetched from a real HTTP
server on 127.0.0.1 (allowed for this app with IMAGESHELF_FETCH_ALLOW, as for a NAS),
and the export checked with zipfile and ``unzip -t``."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from imageshelf.app.library import rules
from tests.image_upstream import ImageUpstream, running

from .xdesk import AppProcess, XServer, center, wait_for


@pytest.fixture(scope="module")
def upstream() -> Iterator[ImageUpstream]:
    yield from running()


@pytest.fixture(scope="module")
def app(
    launch: Callable[..., AppProcess], filled_library: Callable[..., Path], upstream
) -> Iterator[AppProcess]:
    library = filled_library("Web ñ", [("old.jpg", "Trip"), ("top.jpg", None)])
    before = os.environ.get(rules.FETCH_ALLOW_ENV)
    os.environ[rules.FETCH_ALLOW_ENV] = "127.0.0.1"  # the app's environment is ours
    try:
        yield launch(library=library)
    finally:
        if before is None:
            os.environ.pop(rules.FETCH_ALLOW_ENV, None)
        else:
            os.environ[rules.FETCH_ALLOW_ENV] = before


class Clipboard:
    """The X clipboard owned by xclip, in the foreground so it can be ended."""

    def __init__(self, xserver: XServer) -> None:
        if shutil.which("xclip") is None:
            pytest.fail("the paste tests need xclip: run scripts/bootstrap.sh as root")
        self.x = xserver
        self.proc: subprocess.Popen[bytes] | None = None

    def offer(self, data: bytes, mime: str) -> None:
        self.close()
        self.proc = subprocess.Popen(
            ["xclip", "-quiet", "-selection", "clipboard", "-t", mime, "-i"],
            env={**os.environ, "DISPLAY": self.x.display},
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.close()
        # Owned once xclip answers for the clipboard: ask it as another program would.
        wait_for(lambda: mime in self.targets(), "xclip to own the clipboard")

    def targets(self) -> str:
        try:
            return self.x.run("xclip", "-o", "-selection", "clipboard", "-t", "TARGETS")
        except subprocess.CalledProcessError:
            return ""  # nobody owns it yet

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def clipboard(xserver: XServer) -> Iterator[Clipboard]:
    board = Clipboard(xserver)
    yield board
    board.close()


def _dialog(state: dict[str, Any], title: str) -> dict[str, Any] | None:
    return next((w for w in state["windows"] if w["title"] == title), None)


def _open_dialog(xserver: XServer, app: AppProcess, keys: str, title: str) -> None:
    """The keys that open the dialog, then the keyboard focus on it, as a window manager
    gives a new dialog (none runs here)."""
    xserver.key(keys)
    app.wait_state(lambda s: _dialog(s, title), f"the {title} dialog")
    window = wait_for(lambda: xserver.window_ids(title), f"the {title} X window")[0]
    xserver.xdotool("windowfocus", "--sync", window)
    app.wait_state(lambda s: s["active"] == title, f"the {title} dialog active")


def _show_folder(xserver: XServer, app: AppProcess, place: str) -> None:
    state = app.wait_state(lambda s: s["places"].get(place), f"{place} in the tree")
    xserver.click(*center(state["places"][place]))
    app.wait_state(lambda s: s["place"] == place, f"{place} shown")


def _focus_grid(xserver: XServer, app: AppProcess) -> None:
    state = app.wait_state(lambda s: s["cells"], "thumbnails shown")
    xserver.click(*center(state["cells"][0]["rect"]))
    app.wait_state(lambda s: s["focus_class"] == "ImageGrid", "the grid focused")


def test_an_address_typed_into_add_from_url_lands_in_the_folder_shown(
    xserver: XServer, app: AppProcess, upstream: ImageUpstream
) -> None:
    _show_folder(xserver, app, "folder:Trip")
    app.focus()
    _open_dialog(xserver, app, "ctrl+shift+v", "Add from URL")
    xserver.key("ctrl+a")  # whatever the clipboard offered is replaced
    xserver.type(upstream.url("/jpeg/typed%20kite.jpg"))
    xserver.key("Return")
    wait_for(lambda: app.images().get("typed kite.jpg"), "the fetched image in the library")
    assert app.images()["typed kite.jpg"][0] == "Trip"
    state = app.wait_state(lambda s: not _dialog(s, "Add from URL"), "the dialog closed")
    assert "Added Trip/typed kite.jpg" in state["status"]


def test_a_refused_address_is_said_in_the_dialog_and_stop_ends_a_silent_fetch(
    xserver: XServer, app: AppProcess, upstream: ImageUpstream
) -> None:
    app.focus()
    _open_dialog(xserver, app, "ctrl+shift+v", "Add from URL")
    xserver.key("ctrl+a")
    xserver.type(f"{upstream.url('/text')} {upstream.url('/stall/slow.png')}")
    xserver.key("Return")
    assert upstream.stalled.wait(20)  # the second address is being fetched, silently
    xserver.key("Escape")  # closing the dialog stops the fetch
    app.wait_state(lambda s: not _dialog(s, "Add from URL"), "the dialog closed")
    names = app.images()
    assert "slow.png" not in names and "text" not in names
    wait_for(lambda: not list((app.library / ".imageshelf" / "tmp").iterdir()), "tmp/ empty")


def test_ctrl_v_on_the_grid_fetches_a_copied_address(
    xserver: XServer, app: AppProcess, upstream: ImageUpstream, clipboard: Clipboard
) -> None:
    _show_folder(xserver, app, "all")
    _focus_grid(xserver, app)
    clipboard.offer(f"{upstream.url('/img/pasted%20link.png')}\r\n".encode(), "text/uri-list")
    xserver.key("ctrl+v")
    wait_for(lambda: app.images().get("pasted link.png"), "the pasted address fetched")
    assert app.images()["pasted link.png"][0] == ""


def test_ctrl_v_on_the_grid_adds_a_copied_picture_and_copied_files(
    xserver: XServer, app: AppProcess, clipboard: Clipboard, files: Callable[..., list[Path]]
) -> None:
    _focus_grid(xserver, app)
    clipboard.offer(files("copied.png")[0].read_bytes(), "image/png")
    xserver.key("ctrl+v")
    wait_for(lambda: any(n.startswith("Pasted image") for n in app.images()), "the pasted picture")
    paths = files("from the file manager.jpg")
    clipboard.offer(f"file://{paths[0]}\r\n".encode(), "text/uri-list")
    _focus_grid(xserver, app)
    xserver.key("ctrl+v")
    wait_for(lambda: app.images().get("from the file manager.jpg"), "the pasted file imported")
    # In the library is not yet on the screen: the grid takes arrivals in batches.
    app.wait_state(
        lambda s: any(c["name"] == "from the file manager.jpg" for c in s["cells"]),
        "the pasted file shown in the grid",
    )


def test_export_the_selection_to_a_zip_with_the_keyboard(
    xserver: XServer, app: AppProcess, desk_home: Path
) -> None:
    _show_folder(xserver, app, "all")
    # Ctrl+A selects what the grid shows: wait until it shows every image in the library,
    # or one still arriving would be left out, as it would for a person.
    in_library = len(app.images())
    app.wait_state(lambda s: s["total"] == in_library, "every image in the grid")
    _focus_grid(xserver, app)
    xserver.key("ctrl+a")
    total = app.wait_state(lambda s: s["total"] > 0 and len(s["selected"]) == s["total"],
                           "every image selected")["total"]  # fmt: skip
    _open_dialog(xserver, app, "ctrl+shift+e", "Export images")
    dest = desk_home / "exports" / "All of it.zip"
    dest.parent.mkdir(exist_ok=True)
    xserver.key("ctrl+a")  # the path field has the keys: replace the suggestion
    xserver.type(str(dest))
    xserver.key("Return")
    state = app.wait_state(lambda s: not _dialog(s, "Export images"), "the export done", 60)
    assert f"Exported {total} images" in state["status"]
    with zipfile.ZipFile(dest) as z:
        assert z.testzip() is None
        names = z.namelist()
    assert "Trip/old.jpg" in names and "top.jpg" in names and "alt-text.csv" in names
    assert len(names) == total + 1
    tested = subprocess.run(["unzip", "-t", str(dest)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout
    assert sorted(p.name for p in dest.parent.iterdir()) == ["All of it.zip"]
