"""The left pane: "All images", "Needs alt text", then the library's folders, nested, each
with its count (a parent's includes its sub-folders), and the Trash. A drop target: files
dropped on a folder are imported into it, images dragged from the grid are moved into it
(or, dropped on the Trash, deleted), and a folder dragged onto another is moved into it."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QPainter,
    QPen,
)
from PySide6.QtWidgets import (
    QHeaderView,
    QStyle,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from imageshelf.app.library import FolderInfo

from .mime import (
    FOLDER_MIME,
    IMAGE_IDS_MIME,
    dragged_folder,
    folder_to_mime,
    image_ids,
    local_paths,
)

KEY_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Place:
    """A tree entry: ``kind`` is "all", "undescribed", "trash" or "folder" (with
    ``folder``)."""

    kind: str
    folder: str | None = None

    @property
    def drop_folder(self) -> str | None:
        """Where images dropped here go: the folder, or the library's top level."""
        return self.folder if self.kind == "folder" else None


ALL = Place("all")
UNDESCRIBED = Place("undescribed")
TRASH = Place("trash")


class FolderTree(QTreeWidget):
    place_selected = Signal(object)  # Place
    files_dropped = Signal(list, object)  # list[Path], folder or None
    images_dropped = Signal(list, object)  # list[str] ids, folder or None
    folder_dropped = Signal(str, object)  # the folder dragged, the folder it goes into
    trash_dropped = Signal(list)  # list[str] ids dropped on the Trash
    notice = Signal(str)  # why a drop is refused, for the status bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderHidden(True)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setAcceptDrops(True)
        self.setDragEnabled(True)  # a folder can be dragged onto another
        self.setDragDropMode(QTreeWidget.DragDropMode.DragDrop)
        self.setDropIndicatorShown(True)
        self.setAccessibleName("Folders")
        self.setAccessibleDescription(
            "All images, images that need alt text, and the library's folders. "
            "Drop files here to import them, or images to move them."
        )
        self.on_disk: set[str] = set()  # folders on disk, empty ones too (from a worker)
        self.totals: dict[str, int] = {}  # each folder's images, sub-folders included
        self.own: dict[str, int] = {}  # each folder's own images
        self.drop_hover: Place | None = None  # the entry a drag would drop on, highlighted
        self._items: dict[Place, QTreeWidgetItem] = {}
        self._to_select: Place | None = None
        self.currentItemChanged.connect(self._on_current_changed)

    # --- contents ------------------------------------------------------------------------

    def refresh(
        self, total: int, undescribed: int, folders: list[FolderInfo], trash: int = 0
    ) -> None:
        """Shows the counts; rebuilds the folder items only when the set of folders changed,
        so selection and expansion survive a burst of events."""
        counts = {f.path: f.count for f in folders}
        for p in self.on_disk:
            counts.setdefault(p, 0)
        wanted = set(counts)
        for path in list(counts):
            parts = path.split("/")
            for i in range(1, len(parts)):
                wanted.add("/".join(parts[:i]))
        totals = dict.fromkeys(wanted, 0)
        for path, n in counts.items():
            parts = path.split("/")
            for i in range(1, len(parts) + 1):
                totals["/".join(parts[:i])] += n
        self.totals = totals
        self.own = {p: counts.get(p, 0) for p in wanted}
        have = {p.folder for p in self._items if p.kind == "folder"}
        if not self._items or wanted != have:
            self._rebuild(sorted(wanted, key=lambda p: p.casefold()))
        if self._to_select is not None and self._to_select in self._items:
            self.select(self._to_select)
        self._set_count(ALL, total)
        self._set_count(UNDESCRIBED, undescribed)
        self._items[TRASH].setText(1, str(trash) if trash else "")
        for path in wanted:
            item = self._items[Place("folder", path)]
            own, all_ = counts.get(path, 0), totals[path]
            item.setText(1, str(all_))
            if all_ != own:
                tip = f"{path}: {own:,} here, {all_:,} with its sub-folders"
            else:
                tip = f"{path}: {own:,} image{'s' if own != 1 else ''}"
            item.setToolTip(0, tip)
            item.setToolTip(1, tip)

    def _set_count(self, place: Place, n: int) -> None:
        self._items[place].setText(1, str(n))

    def _rebuild(self, folders: list[str]) -> None:
        current = self.current_place()
        expanded = {p for p, it in self._items.items() if it.isExpanded()}
        first_build = not self._items
        self.blockSignals(True)
        self.clear()
        self._items = {}
        bold = QFont(self.font())
        bold.setBold(True)
        style = self.style()
        sp = QStyle.StandardPixmap
        folder_icon = style.standardIcon(sp.SP_DirIcon)
        for place, label, icon in (
            (ALL, "All images", style.standardIcon(sp.SP_FileDialogContentsView)),
            (UNDESCRIBED, "Needs alt text", style.standardIcon(sp.SP_MessageBoxWarning)),
        ):
            item = QTreeWidgetItem([label, ""])
            item.setIcon(0, icon)
            item.setData(0, KEY_ROLE, place)
            item.setFont(0, bold)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            self.addTopLevelItem(item)
            self._items[place] = item
        for path in folders:
            parent_path, _, name = path.rpartition("/")
            item = QTreeWidgetItem([name, ""])
            item.setIcon(0, folder_icon)
            place = Place("folder", path)
            item.setData(0, KEY_ROLE, place)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            parent = self._items.get(Place("folder", parent_path)) if parent_path else None
            if parent is not None:
                parent.addChild(item)
            else:
                self.addTopLevelItem(item)
            self._items[place] = item
        trash = QTreeWidgetItem(["Trash", ""])
        trash.setIcon(0, style.standardIcon(sp.SP_TrashIcon))
        trash.setData(0, KEY_ROLE, TRASH)
        trash.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
        trash.setToolTip(0, "Deleted images: restore them, or delete them for good")
        self.addTopLevelItem(trash)
        self._items[TRASH] = trash
        for place, item in self._items.items():
            item.setExpanded(first_build or place in expanded)
        self.setCurrentItem(self._items.get(current or ALL) or self._items[ALL])
        self.blockSignals(False)
        if current is not None and current not in self._items:
            self.place_selected.emit(ALL)  # the folder shown was emptied away

    # --- selection -----------------------------------------------------------------------

    def current_place(self) -> Place | None:
        item = self.currentItem()
        return item.data(0, KEY_ROLE) if item is not None else None

    def select(self, place: Place) -> None:
        """Selects ``place``; a folder not in the tree yet (its counts are still being
        read) is selected when the refresh that brings it lands."""
        item = self._items.get(place)
        self._to_select = None if item is not None else place
        if item is not None:
            self.setCurrentItem(item)

    def item_for(self, place: Place) -> QTreeWidgetItem | None:
        return self._items.get(place)

    def set_disk_folders(self, folders: set[str]) -> None:
        self.on_disk = set(folders)

    def _on_current_changed(self, current: QTreeWidgetItem | None, _prev: object) -> None:
        if current is not None:
            self.place_selected.emit(current.data(0, KEY_ROLE))

    # --- dragging a folder -----------------------------------------------------------------

    def startDrag(self, actions: Qt.DropAction) -> None:
        place = self.current_place()
        if place is None or place.kind != "folder" or not place.folder:
            return
        drag = QDrag(self)
        drag.setMimeData(folder_to_mime(place.folder))
        item = self.currentItem()
        if item is not None:
            drag.setPixmap(item.icon(0).pixmap(24, 24))
        drag.exec(Qt.DropAction.MoveAction)

    # --- drops ---------------------------------------------------------------------------

    def _target(self, event: QDropEvent | QDragMoveEvent) -> Place | None:
        item = self.itemAt(event.position().toPoint())
        return item.data(0, KEY_ROLE) if item is not None else None

    @staticmethod
    def _folder_fits(folder: str, target: Place | None) -> bool:
        """A folder goes onto another folder, not onto itself, its parent or inside it."""
        if target is None or target.kind != "folder" or not target.folder:
            return False
        dest = target.folder
        parent = folder.rpartition("/")[0]
        return dest != folder and dest != parent and not dest.startswith(folder + "/")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if local_paths(mime) or image_ids(mime) or dragged_folder(mime):
            event.acceptProposedAction()
        else:
            event.ignore()

    def mimeTypes(self) -> list[str]:
        # What the view may show a drop indicator for (the drop itself is handled below).
        return [IMAGE_IDS_MIME, FOLDER_MIME, "text/uri-list"]

    def _accepts(self, target: Place | None, mime: QMimeData) -> bool:
        """Files import into a folder or, on "All images", the top level. Images move only
        onto a folder: "All images" shows every folder, so a drop there must not quietly
        move them to the top level (Move to folder… does that on purpose)."""
        if target is None or target == UNDESCRIBED:
            return False
        folder = dragged_folder(mime)
        if folder is not None:
            return self._folder_fits(folder, target)
        if target == TRASH:  # images dropped there are deleted; files are not taken
            return bool(image_ids(mime))
        if image_ids(mime):
            return target.kind == "folder"
        return bool(local_paths(mime))

    def _set_drop_hover(self, place: Place | None) -> None:
        if place != self.drop_hover:
            self.drop_hover = place
            self.viewport().update()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        super().dragMoveEvent(event)  # autoscroll and expanding a folder held over
        target = self._target(event)
        mime = event.mimeData()
        if self._accepts(target, mime):
            move = dragged_folder(mime) is not None  # a folder of ours moves; files copy
            event.setDropAction(Qt.DropAction.MoveAction if move else Qt.DropAction.CopyAction)
            event.accept()
            self._set_drop_hover(target)
            return
        event.ignore()
        if target != self.drop_hover and image_ids(mime) and target is not None:
            self.notice.emit("Drop images on a folder to move them there.")
        self._set_drop_hover(None)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drop_hover(None)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drop_hover(None)
        target = self._target(event)
        mime = event.mimeData()
        folder = dragged_folder(mime)
        if folder is not None:
            if not self._folder_fits(folder, target):
                event.ignore()
                return
            assert target is not None and target.folder is not None
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
            self.folder_dropped.emit(folder, target.folder)
            return
        if target is None or not self._accepts(target, mime):
            event.ignore()
            return
        ids = image_ids(mime)
        if target == TRASH:
            self.trash_dropped.emit(ids)
        elif ids:
            self.images_dropped.emit(ids, target.drop_folder)
        else:
            self.files_dropped.emit(local_paths(mime), target.drop_folder)
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()

    def drawRow(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().drawRow(painter, option, index)
        item = self.itemFromIndex(index)
        if self.drop_hover is not None and item is self._items.get(self.drop_hover):
            # The entry a drop lands on: filled with the selection colour, framed.
            color = self.palette().highlight().color()
            tint = QColor(color)
            tint.setAlpha(70)
            rect = option.rect.adjusted(1, 0, -2, -1)
            painter.fillRect(rect, tint)
            painter.setPen(QPen(color, 2))
            painter.drawRect(rect)
