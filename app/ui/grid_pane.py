"""The centre pane: the search field, the sort order and the thumbnail size above the
grid (or the Trash view), and, while a search runs inside a folder, a line saying so with
"Search all images".

The search lives here rather than in the toolbar: a toolbar that overflows (a window of
800 px) hides what does not fit behind its extension button, and Ctrl+F must always find
the field."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from .grid_model import THUMB_SIDE, THUMB_SIDES


class GridPane(QWidget):
    search_everywhere = Signal()  # "Search all images" was pressed

    def __init__(
        self, search: QLineEdit, sort: QComboBox, body: QWidget, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.search = search
        self.search.setMinimumWidth(80)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(search, 1)
        sort_label = QLabel("Sort:", self)
        sort_label.setBuddy(sort)
        top.addWidget(sort_label)
        top.addWidget(sort)
        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_slider.setRange(*THUMB_SIDES)
        self.size_slider.setValue(THUMB_SIDE)
        self.size_slider.setFixedWidth(70)
        self.size_slider.setAccessibleName("Thumbnail size")
        self.size_slider.setToolTip("Thumbnail size (Ctrl+plus, Ctrl+minus)")
        top.addWidget(self.size_slider)
        self.top = top

        self.scope = QFrame(self)
        self.scope.setObjectName("search-scope")
        self.scope.setFrameShape(QFrame.Shape.StyledPanel)
        self.scope_label = QLabel(self.scope)
        self.scope_label.setWordWrap(True)
        self.scope_label.setAccessibleName("Search scope")
        self.everywhere = QPushButton("Search all images", self.scope)
        self.everywhere.setAccessibleName("Search all images")
        self.everywhere.setToolTip("Run this search over every folder")
        self.everywhere.clicked.connect(self.search_everywhere)
        row = QHBoxLayout(self.scope)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.scope_label, 1)
        row.addWidget(self.everywhere)
        self.scope.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.scope)
        layout.addWidget(body, 1)

    def show_scope(self, where: str | None) -> None:
        """``where``: what a search is limited to ("the folder “Trip”"), or ``None`` when
        the search covers every image (or nothing is searched)."""
        if where is None:
            self.scope.hide()
            return
        self.scope_label.setText(f"Searching only {where}.")
        self.scope.show()
