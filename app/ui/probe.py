"""Where the window's parts are on screen, for the real-input tests (tests/desktop).

Only when the environment variable ``IMAGESHELF_PROBE`` names a file: the window then
rewrites that file (atomically, a few times a second) with JSON saying where its parts are
in screen coordinates, what has the keyboard focus and what the grid shows. The tests
read it to know *where* to click, drag and type through the X server; what a gesture did
they check in the library itself. Without the variable nothing of this runs."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRect, QSize, QTimer
from PySide6.QtWidgets import QApplication, QMenu, QToolBar, QWidget

from .folder_tree import Place
from .grid_query import Role

if TYPE_CHECKING:
    from .main_window import MainWindow

ENV = "IMAGESHELF_PROBE"
INTERVAL_MS = 150
MAX_CELLS = 60


def _rect(widget: QWidget, rect: QRect | None = None) -> list[int] | None:
    if not widget.isVisible():
        return None
    r = rect if rect is not None else widget.rect()
    top_left = widget.mapToGlobal(r.topLeft())
    return [top_left.x(), top_left.y(), r.width(), r.height()]


def _name(widget: QWidget | None) -> str | None:
    if widget is None:
        return None
    return widget.objectName() or widget.accessibleName() or type(widget).__name__


def _key(place: Place) -> str:
    return place.kind if place.kind != "folder" else f"folder:{place.folder}"


def snapshot(window: MainWindow) -> dict[str, Any]:
    grid, tree = window.grid, window.tree
    widgets = {
        "window": window,
        "grid": grid.viewport(),
        "tree": tree.viewport(),
        "search": window.search,
        "sort": window.sort,
        "alt": window.details.alt.edit,
        "details": window.details,
    }
    pane = getattr(window, "grid_pane", None)
    if pane is not None:
        widgets.update(scope=pane.scope, search_all=pane.everywhere)
    toolbar = window.findChild(QToolBar, "main-toolbar")
    if toolbar is not None:
        widgets["toolbar"] = toolbar
    places: dict[str, list[int] | None] = {}
    for place, item in tree._items.items():
        places[_key(place)] = _rect(tree.viewport(), tree.visualItemRect(item))
    cells = []
    model = grid.model()
    for row in range(min(model.rowCount(), 5000)):
        index = model.index(row, 0)
        rect = grid.visualRect(index)
        if rect.intersects(grid.viewport().rect()):
            cells.append(
                {
                    "row": row,
                    "name": index.data(),
                    "id": index.data(Role.Id),
                    "rect": _rect(grid.viewport(), rect),
                }
            )
            if len(cells) >= MAX_CELLS:
                break
    app = QApplication.instance()
    focus = QApplication.focusWidget()
    popups = [
        {
            "title": w.title() if isinstance(w, QMenu) else w.windowTitle(),
            "class": type(w).__name__,
            "rect": _rect(w),
        }
        for w in QApplication.topLevelWidgets()
        if w.isVisible() and w is not window
    ]
    viewer = getattr(window, "viewer", None)
    return {
        "viewer": None
        if viewer is None or not viewer.isVisible()
        else {
            "rect": _rect(viewer),
            "title": viewer.windowTitle(),
            "mode": viewer.mode,
            "id": viewer.record.id if viewer.record else None,
            "shown": list(getattr(viewer, "shown_size", QSize()).toTuple()),
            "area": list(viewer.scroll_area.viewport().size().toTuple()),
        },
        "thumb_side": window.grid.thumb_side(),
        # The cycle collector: paused for the start, then the start's objects frozen.
        "gc": {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()},
        "pid": os.getpid(),
        "widgets": {k: _rect(w) for k, w in widgets.items() if w is not None},
        "focus": _name(focus),
        "focus_class": type(focus).__name__ if focus is not None else None,
        "active": _name(QApplication.activeWindow()) if app else None,
        "windows": popups,
        "places": places,
        "place": _key(window.place()),
        "cells": cells,
        "total": getattr(model, "total", model.rowCount()),
        "selected": [i.data(Role.Id) for i in grid.selectionModel().selectedIndexes()[:50]],
        "current": grid.currentIndex().data(Role.Id) if grid.currentIndex().isValid() else None,
        "scroll": grid.verticalScrollBar().value(),
        "status": window.statusBar().currentMessage(),
        "search_text": window.search.text(),
        "details_heading": window.details.heading.text(),
        "menus": {
            a.text().replace("&", ""): _rect(window.menuBar(), window.menuBar().actionGeometry(a))
            for a in window.menuBar().actions()
        },
        "server_running": window.server.running,
        "library": str(window.library.root),
        "alt_text": window.details.alt.edit.toPlainText()[:200],
        "alt_chars": len(window.details.alt.edit.toPlainText()),
        "alt_status": window.details.alt.status.text(),
        "focus_rect": _rect(focus) if focus is not None else None,
        "dragging": grid.dragging,
        "drop_hover": "grid"
        if grid.drop_hover
        else (_key(tree.drop_hover) if tree.drop_hover is not None else None),
    }


def install(window: MainWindow) -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    target = Path(path)
    temp = target.with_name(target.name + ".tmp")

    def write() -> None:
        temp.write_text(json.dumps(snapshot(window)), encoding="utf-8")
        os.replace(temp, target)

    timer = QTimer(window)
    timer.timeout.connect(write)
    timer.start(INTERVAL_MS)
