"""Describing a queue of images with the keyboard alone, as a person does it: through
the X server's keyboard, in the real window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from imageshelf.app.library.rules import MAX_ALT_TEXT_CHARS

from .xdesk import AppProcess, XServer, center, wait_for

CONTAINERS = {"DetailsPane", "QScrollArea", "QWidget", "QFrame", "QGroupBox", "QSplitter",
              "QLabel", "QStatusBar", "QToolBar", "MainWindow"}  # fmt: skip
NAMES = [f"queue-{n}.jpg" for n in range(4)]


@pytest.fixture(scope="module")
def app(launch: Callable[..., AppProcess], filled_library: Callable[..., Path]) -> AppProcess:
    return launch(library=filled_library("Describe ñ", [(n, None) for n in NAMES]))


def alt_of(app: AppProcess, name: str) -> str | None:
    return app.images()[name][1]


def test_a_queue_is_described_with_the_keyboard_alone(xserver: XServer, app: AppProcess) -> None:
    xserver.key("ctrl+shift+a")  # View → Show images that need alt text
    state = app.wait_state(lambda s: s["place"] == "undescribed" and s["total"] == 4, "the queue")
    xserver.click(*center(state["cells"][0]["rect"]))
    app.wait_state(lambda s: len(s["selected"]) == 1, "the first image selected")
    xserver.key("F2")
    app.wait_state(lambda s: s["focus"] == "Alt text", "the editor focused")
    for n in range(3):
        first = app.state()["cells"][0]["name"]
        xserver.type(f"Picture number {n}")
        xserver.key("ctrl+Return")
        wait_for(lambda first=first, n=n: alt_of(app, first) == f"Picture number {n}", "saved")
        # The described image left the queue; the next one is selected and the keys
        # still go to the editor.
        app.wait_state(
            lambda s, first=first, n=n: (
                s["total"] == 3 - n
                and len(s["selected"]) == 1
                and s["cells"][0]["name"] != first
                and s["focus"] == "Alt text"
                and s["alt_chars"] == 0
            ),
            "the next image in the editor",
        )


def test_text_over_the_limit_is_kept_as_a_draft(xserver: XServer, app: AppProcess) -> None:
    state = app.wait_state(lambda s: s["total"] == 1 and s["focus"] == "Alt text", "one left")
    last = state["cells"][0]["name"]
    too_long = "x" * (MAX_ALT_TEXT_CHARS + 5)
    xserver.xdotool("type", "--delay", 0, too_long)
    app.wait_state(lambda s: s["alt_chars"] == len(too_long), "the long text typed")
    xserver.key("ctrl+Return")
    app.wait_state(lambda s: "Too long" in s["alt_status"], "said to be too long")
    # Away to another image (in All images) and back: the text is still there.
    xserver.key("ctrl+shift+l")
    state = app.wait_state(lambda s: s["place"] == "all" and len(s["cells"]) == 4, "all shown")
    assert "draft" in state["status"].lower(), state["status"]
    other = next(c for c in state["cells"] if c["name"] != last)
    xserver.click(*center(other["rect"]))
    app.wait_state(lambda s: s["alt_chars"] < 100, "another image's text shown")
    back = next(c for c in app.state()["cells"] if c["name"] == last)
    xserver.click(*center(back["rect"]))
    state = app.wait_state(lambda s: s["alt_chars"] == len(too_long), "the draft back")
    assert "draft" in state["alt_status"].lower()
    assert alt_of(app, last) is None  # never saved cut short either


def test_alt_f_opens_the_file_menu(xserver: XServer, app: AppProcess) -> None:
    xserver.click(*center(app.state()["cells"][0]["rect"]))
    xserver.key("alt+f")
    app.wait_state(
        lambda s: any(w["class"] == "QMenu" and w["title"] == "&File" for w in s["windows"]),
        "the File menu open",
    )
    xserver.key("Escape")
    app.wait_state(lambda s: not any(w["class"] == "QMenu" for w in s["windows"]), "closed")


def test_every_tab_stop_is_a_visible_named_control(xserver: XServer, app: AppProcess) -> None:
    # Not the image clicked just before: two clicks there would be a double-click.
    xserver.click(*center(app.state()["cells"][1]["rect"]))
    app.wait_state(lambda s: s["focus"] == "Images", "the grid focused")
    seen: list[str] = []
    for _ in range(12):
        before = app.state()["focus"]
        xserver.key("Tab")
        state = app.wait_state(lambda s, before=before: s["focus"] != before, "focus moved")
        assert state["focus_rect"] is not None, f"Tab went to a hidden widget: {state['focus']}"
        assert not state["focus"].startswith("Q"), f"Tab stop with no name: {state['focus']}"
        # A pane or a box holding controls shows no focus of its own: no Tab stop.
        assert state["focus_class"] not in CONTAINERS, f"Tab stop on a pane: {state['focus']}"
        seen.append(state["focus"])
        if state["focus"] == "Images":
            break
    assert seen[-1] == "Images", f"Tab never came back round: {seen}"
    assert {"Search", "Folders", "Alt text"} <= set(seen), seen
