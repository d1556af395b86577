"""The window's size and panes: the first run's size, what is kept between runs
(geometry, splitter, thumbnail size, sort, alt-text drafts), and how a narrow window
shares its width so the grid keeps two columns."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize

from imageshelf.app.library import Sort

from . import library_targets

if TYPE_CHECKING:
    from .main_window import MainWindow

TREE_MIN_WIDTH = 150


def first_size(available: QSize) -> QSize:
    """The window's size on a first run: 1280×800, or nine tenths of a smaller screen."""
    return QSize(min(1280, available.width() * 9 // 10), min(800, available.height() * 9 // 10))


def restore(window: MainWindow) -> bool:
    """Geometry, thumbnail size and sort as last time; whether the splitter was restored."""
    settings = window.settings
    geometry = settings.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    else:
        window.resize(first_size(window.screen().availableGeometry().size()))
    splitter = settings.value("window/splitter")
    restored = splitter is not None and window.splitter.restoreState(splitter)
    side = settings.value("view/thumb_side")
    if side is not None:
        window.grid_pane.size_slider.setValue(int(side))
    sort = settings.value("view/sort")
    index = window.sort.findData(Sort(sort)) if sort in set(Sort) else -1
    if index >= 0:
        window.sort.setCurrentIndex(index)
    return restored


def restore_drafts(window: MainWindow) -> None:
    """Alt text that could not be saved last time (too long), shown again."""
    try:
        drafts = json.loads(str(window.settings.value("alt/drafts", "{}")))
    except ValueError:
        drafts = {}
    if isinstance(drafts, dict):
        window.details.drafts.update({str(k): str(v) for k, v in drafts.items()})


def save(window: MainWindow) -> None:
    details, settings = window.details, window.settings
    if details.alt.is_dirty() and details.record is not None:
        details.save_alt_text()
        if details.alt.is_dirty():
            details.drafts[details.record.id] = details.alt.edit.toPlainText()
    # Saves still on their way are kept as drafts too: one that fails while the window
    # closes is not lost (one that lands is dropped when its image is shown again).
    settings.setValue("alt/drafts", json.dumps(details.saves.drafts_to_keep() | details.drafts))
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/splitter", window.splitter.saveState())
    settings.setValue("view/sort", str(window.sort.currentData()))
    target = library_targets.without_password(window.target)
    settings.setValue("library/last", library_targets.encode(target))
    settings.sync()


def fit_panes(window: MainWindow) -> None:
    """A narrow window (800 px) keeps two columns of thumbnails: the tree, then the
    details give up width down to their minimum."""
    splitter, grid = window.splitter, window.grid
    sizes = splitter.sizes()
    if len(sizes) != 3:
        return
    need = grid.columns_width(2) + window.grid_pane.width() - grid.width()
    lack = need - sizes[1]
    if lack <= 0:
        return
    for pane, floor in ((0, TREE_MIN_WIDTH), (2, window.details.minimumWidth())):
        give = max(0, min(lack, sizes[pane] - floor))
        sizes[pane] -= give
        sizes[1] += give
        lack -= give
    splitter.setSizes(sizes)


def first_layout(window: MainWindow) -> None:
    """First run: the side panes get what they need, the grid gets the rest (at 800 px
    the grid still shows two columns)."""
    width = window.width()
    side = [min(220, width // 5), min(360, max(260, width * 3 // 10))]
    window.splitter.setSizes([side[0], max(300, width - sum(side)), side[1]])
