"""The centre pane: thumbnails in a grid. Drags selected images out (to a folder in the
tree) and takes files dropped from the file manager (to import them)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import (
    QDrag,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from .alt_text_copy import Snippet, add_to_mime
from .grid_delegate import ThumbnailDelegate, cell_size
from .grid_model import THUMB_SIDE, ImageGridModel, Role
from .mime import ids_to_mime, image_ids, local_paths

EMPTY_LIBRARY = "No images here yet.\n\nDrop images or folders here, or use “Add images…” (Ctrl+O)."
EMPTY_SEARCH = "No image matches this search."


class ImageGrid(QListView):
    files_dropped = Signal(list)  # list[Path]: import into the folder being shown
    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Set by the window: the HTML (with alt text) a drag of these ids also carries.
        self.extra_mime: Callable[[list[str]], Snippet | None] | None = None
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)  # lets the view lay out 100,000 rows without asking each
        self.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        self.setItemDelegate(ThumbnailDelegate(self))
        self._cell = cell_size(self.fontMetrics()) + QSize(8, 8)
        self.setGridSize(self._cell)
        self.setMouseTracking(True)  # hover highlight
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # The grid wraps, so it never scrolls sideways; and a vertical bar that is always
        # there keeps the width the columns are laid out for from changing when it comes
        # or goes (100,000 rows are laid out before it first shows, which left a stray
        # horizontal bar; a short view lost a column when it went away).
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalScrollBar().setSingleStep(24)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setAccessibleName("Images")
        self.setAccessibleDescription(
            "Thumbnails of the images shown. Enter opens the original, Delete deletes. "
            "Drop files here to import them."
        )
        self.empty_text = EMPTY_LIBRARY

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Share the width left over by whole columns among them, so the grid fills the
        # pane evenly instead of leaving a ragged gap on the right.
        width = self.viewport().width() - 2
        columns = max(1, width // self._cell.width())
        wanted = QSize(max(self._cell.width(), width // columns), self._cell.height())
        if wanted != self.gridSize():
            self.setGridSize(wanted)
        super().resizeEvent(event)

    def selected_ids(self) -> list[str]:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        model = self.model()
        if isinstance(model, ImageGridModel):
            # Rows not read yet (a Select All over 100,000) are read now: an action on
            # the selection must act on every image in it.
            return [model.record(r).id for r in rows]
        return [model.index(r, 0).data(Role.Id) for r in rows]

    # --- dragging images out -------------------------------------------------------------

    def startDrag(self, supported: Qt.DropAction) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        drag = QDrag(self)
        drag.setMimeData(self.drag_mime(ids))
        icon = self.currentIndex().data(Qt.ItemDataRole.DecorationRole)
        if icon is not None and not icon.isNull():
            drag.setPixmap(icon.scaled(64, 64, Qt.AspectRatioMode.KeepAspectRatio))
        drag.exec(Qt.DropAction.MoveAction)

    def drag_mime(self, ids: list[str]) -> QMimeData:
        """The ids (for the folder tree) and, for a text editor or a browser, the images
        as HTML with their alt text."""
        mime = ids_to_mime(ids)
        snip = self.extra_mime(ids) if self.extra_mime is not None else None
        if snip is not None:
            add_to_mime(mime, snip)
        return mime

    # --- files dropped in ----------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()  # images dragged within the grid: nothing to do here

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if local_paths(event.mimeData()) and not image_ids(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if not paths or image_ids(event.mimeData()):
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.files_dropped.emit(paths)

    # --- keyboard and the empty state ----------------------------------------------------

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.open_requested.emit()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            rect = self.viewport().rect().adjusted(24, 24, -24, -24)
            painter.drawText(
                rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text
            )
            painter.end()
