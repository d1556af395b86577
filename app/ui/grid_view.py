"""The centre pane: thumbnails in a grid. Drags selected images out (to a folder in the
tree) and takes files dropped from the file manager (to import them)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QMimeData, QPersistentModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QHoverEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from .alt_text_copy import Snippet, add_to_mime
from .cell_text import CellNames
from .grid_delegate import ThumbnailDelegate, cell_size
from .grid_model import THUMB_SIDE, THUMB_SIDES, ImageGridModel
from .grid_paint import Plans, paint_cells
from .grid_query import Role
from .mime import ImagesMime, image_ids, local_paths

EMPTY_LIBRARY = "No images here yet.\n\nDrop images or folders here, or use “Add images…” (Ctrl+O)."
EMPTY_SEARCH = "No image matches this search."
# However slow the layout of every row (a window never shown, a loaded machine), work
# that waits for it (``laid_out``) starts by then.
LAYOUT_WAIT_MS = 3000


class ImageGrid(QListView):
    files_dropped = Signal(list)  # list[Path]: import into the folder being shown
    open_requested = Signal()
    drag_refused = Signal(str)  # why: for the status bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Set by the window: the HTML (with alt text) a drag of these ids also carries.
        self.extra_mime: Callable[[list[str]], Snippet | None] | None = None
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)  # lets the view lay out 100,000 rows without asking each
        self.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        self.delegate = ThumbnailDelegate(self)
        self.setItemDelegate(self.delegate)
        self._cell = cell_size(self.fontMetrics()) + QSize(8, 8)
        self.setGridSize(self._cell)
        self.setMouseTracking(True)  # hover highlight
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        # Static movement switched the *viewport* to refuse drops (QListView does that, and
        # the viewport is what a drag from another program arrives at): files dropped
        # anywhere on the grid must import.
        self.viewport().setAcceptDrops(True)
        self.dragging = False  # thumbnails are being dragged from here
        self.drop_hover = False  # files are being dragged over the grid: it is highlighted
        self.drop_text = "Drop to import into the top level"
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # The grid wraps, so it never scrolls sideways; and a vertical bar that is always
        # there keeps the width the columns are laid out for from changing when it comes
        # or goes (100,000 rows are laid out before it first shows, which left a stray
        # horizontal bar; a short view lost a column when it went away).
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalScrollBar().setSingleStep(24)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        # Rows laid out per turn of the event loop: every insert lays out all rows again
        # (QListView), and each turn costs more than its rows (100,000 rows: 0.38 s of CPU
        # in turns of 200, 0.22 s in turns of 2,000, ≈ 5 ms a turn at load 12).
        self.setBatchSize(2000)
        self.setAccessibleName("Images")
        self.setAccessibleDescription(
            "Thumbnails of the images shown. Enter opens the original, Delete deletes. "
            "Drop files here to import them."
        )
        self.empty_text = EMPTY_LIBRARY
        # The cell under the mouse, as Qt's own hover index (which is private): the grid
        # paints its cells itself (grid_paint.py).
        self._hover = QPersistentModelIndex()
        self.cell_names = CellNames()
        self.cell_plans = Plans()

    def laid_out(self) -> bool:
        """Whether the view has placed every row (or is not shown, so lays out nothing).
        Batched layout places ``batchSize`` rows a turn, each row two calls of the
        model's ``rowCount`` in Python: 50 turns for 100,000 rows, each ≈ 5 ms alone, and
        ≈ 5-35 ms of CPU stretched to 50-170 ms of wall time when a worker busy in Python
        (the start-up reconcile's walk) takes the GIL between those calls. So that
        reconcile starts once this says yes."""
        rows = self.model().rowCount()
        if rows == 0 or not self.isVisible():
            return True
        return self.rectForIndex(self.model().index(rows - 1, 0)).isValid()

    def thumb_side(self) -> int:
        return self.delegate.side

    def set_thumb_side(self, side: int) -> None:
        """The thumbnail size control: bigger or smaller cells, the selection kept in
        sight."""
        side = max(THUMB_SIDES[0], min(THUMB_SIDES[1], side))
        if side == self.delegate.side:
            return
        self.delegate.side = side
        model = self.model()
        if isinstance(model, ImageGridModel):
            model.set_side(side)
        self.setIconSize(QSize(side, side))
        self._cell = cell_size(self.fontMetrics(), side) + QSize(8, 8)
        self._fit_grid()
        self.scheduleDelayedItemsLayout()
        QTimer.singleShot(0, self, self._keep_current_in_sight)

    def _fit_grid(self) -> None:
        # Share the width left over by whole columns among them, so the grid fills the
        # pane evenly instead of leaving a ragged gap on the right.
        width = self.viewport().width() - 2
        columns = max(1, width // self._cell.width())
        wanted = QSize(max(self._cell.width(), width // columns), self._cell.height())
        if wanted != self.gridSize():
            self.setGridSize(wanted)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit_grid()
        super().resizeEvent(event)
        # The selected image stays in sight when the window is resized or maximised
        # (once the rows are laid out again for the new width).
        QTimer.singleShot(0, self, self._keep_current_in_sight)

    def _keep_current_in_sight(self) -> None:
        current = self.currentIndex()
        if current.isValid() and self.selectionModel().isSelected(current):
            self.scrollTo(current, QAbstractItemView.ScrollHint.EnsureVisible)

    def columns_width(self, columns: int) -> int:
        """The width this view needs to show ``columns`` columns of thumbnails."""
        chrome = self.width() - self.viewport().width()  # frame and scroll bar
        return columns * self._cell.width() + chrome + 2

    def selected_rows(self) -> list[int]:
        """The selected rows, ascending, from the selection's ranges (a Select All is one
        range: no index object per row)."""
        rows: set[int] = set()
        selection = self.selectionModel().selection()
        for k in range(selection.size()):
            span = selection.at(k)
            rows.update(range(span.top(), span.bottom() + 1))
        return sorted(rows)

    def selected_ids(self) -> list[str]:
        """The ids of the selected rows that are loaded, read nothing: every one for a
        selection made by clicking; an action on all of a bigger one resolves them with
        ``selection_records.RecordResolver``."""
        model = self.model()
        rows = self.selected_rows()
        if isinstance(model, ImageGridModel):
            return [r.id for r in map(model.loaded_record, rows) if r is not None]
        return [model.index(r, 0).data(Role.Id) for r in rows]

    def selection_loaded(self) -> bool:
        model = self.model()
        if not isinstance(model, ImageGridModel):
            return True
        return all(model.is_loaded(r) for r in self.selected_rows())

    # --- dragging images out -------------------------------------------------------------

    def startDrag(self, supported: Qt.DropAction) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        if not self.selection_loaded():
            # A drag needs its data now, and reading 100,000 rows here would freeze the
            # window: a selection that big moves with Move to folder (Ctrl+M) instead.
            self.drag_refused.emit(
                "Too many images to drag at once: use Move to folder… (Ctrl+M) instead."
            )
            return
        drag = QDrag(self)
        drag.setMimeData(self.drag_mime(ids))
        icon = self.currentIndex().data(Qt.ItemDataRole.DecorationRole)
        if icon is not None and not icon.isNull():
            drag.setPixmap(icon.scaled(64, 64, Qt.AspectRatioMode.KeepAspectRatio))
        # Copy (or link), never move: a file manager that "moved" the file would take it
        # out of the library. Our own folder tree moves the images on a copy drop.
        self.dragging = True
        try:
            drag.exec(Qt.DropAction.CopyAction | Qt.DropAction.LinkAction, Qt.DropAction.CopyAction)
        finally:
            self.dragging = False

    def _mime(self, ids: list[str]) -> ImagesMime:
        model = self.model()
        if not isinstance(model, ImageGridModel):
            return ImagesMime(ids, [], None)
        library = model.library
        loaded = map(model.loaded_record, self.selected_rows())
        records = [r for r in loaded if r is not None]
        paths = [library.path_of(r.folder, r.filename) for r in records]
        image = (records[0].content_type, paths[0]) if len(records) == 1 else None
        return ImagesMime(ids, paths, image)

    def drag_mime(self, ids: list[str]) -> QMimeData:
        """What a drag of these images carries (``_mime``) and, for a text editor or a
        browser, the images as HTML with their alt text."""
        mime = self._mime(ids)
        snip = self.extra_mime(ids) if self.extra_mime is not None else None
        if snip is not None:
            add_to_mime(mime, snip)
        return mime

    # --- files dropped in ----------------------------------------------------------------

    @staticmethod
    def _importable(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> bool:
        # Images dragged within the grid carry URLs too (for other programs): not an import.
        mime = event.mimeData()
        return bool(local_paths(mime)) and not image_ids(mime)

    def _set_drop_hover(self, on: bool) -> None:
        if on != self.drop_hover:
            self.drop_hover = on
            self.viewport().update()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._importable(event):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self._set_drop_hover(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._importable(event):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drop_hover(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drop_hover(False)
        if not self._importable(event):
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.files_dropped.emit(local_paths(event.mimeData()))

    # --- keyboard and the empty state ----------------------------------------------------

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.open_requested.emit()
            return
        super().keyPressEvent(event)

    def has_keyboard_focus(self) -> bool:
        """Whether the current cell shows its focus mark (as ``QListView`` decides)."""
        return self.hasFocus() or self.viewport().hasFocus()

    def viewportEvent(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.HoverMove, QEvent.Type.HoverEnter):
            assert isinstance(event, QHoverEvent)
            self._hover = QPersistentModelIndex(self.indexAt(event.position().toPoint()))
        elif kind in (QEvent.Type.HoverLeave, QEvent.Type.Leave):
            self._hover = QPersistentModelIndex()
        return super().viewportEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self.cell_names.forget()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not paint_cells(self, event, self._hover):
            super().paintEvent(event)
        model = self.model()
        empty = model is not None and model.rowCount() == 0
        if not empty and not self.drop_hover:
            return
        painter = QPainter(self.viewport())
        if empty:
            painter.setPen(self.palette().placeholderText().color())
            rect = self.viewport().rect().adjusted(24, 24, -24, -24)
            painter.drawText(
                rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text
            )
        if self.drop_hover:
            self._paint_drop_hover(painter)
        painter.end()

    def _paint_drop_hover(self, painter: QPainter) -> None:
        """The whole grid is the target: a tinted frame and, at the top, where files go."""
        color = self.palette().highlight().color()
        tint = QColor(color)
        tint.setAlpha(28)
        area = self.viewport().rect().adjusted(2, 2, -3, -3)
        painter.fillRect(area, tint)
        painter.setPen(QPen(color, 3, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(area, 8, 8)
        metrics = self.fontMetrics()
        label = metrics.elidedText(self.drop_text, Qt.TextElideMode.ElideMiddle, area.width() - 40)
        box = metrics.boundingRect(label).adjusted(-12, -6, 12, 6)
        box.moveCenter(area.center())
        box.moveTop(area.top() + 16)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(box, box.height() / 2, box.height() / 2)
        painter.setPen(self.palette().highlightedText().color())
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
