"""A second program for the real-input tests, standing in for a file manager: a small
window that, when dragged from, offers the files named on its command line as
``text/uri-list``. It prints ``ready`` once shown and ``dropped <action>`` after a drag.

python -m tests.desktop.drag_source TITLE X Y FILE...
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDrag, QMouseEvent
from PySide6.QtWidgets import QApplication, QLabel


class Source(QLabel):
    def __init__(self, paths: list[Path]) -> None:
        super().__init__(f"Drag {len(paths)} file(s) from here")
        self.paths = paths
        self.pressed: QPoint | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: #fd7; color: black; font-size: 14px;")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.pressed = event.position().toPoint()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.pressed is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        if (event.position().toPoint() - self.pressed).manhattanLength() < 4:
            return
        self.pressed = None
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in self.paths])
        drag = QDrag(self)
        drag.setMimeData(mime)
        action = drag.exec(
            Qt.DropAction.CopyAction | Qt.DropAction.MoveAction | Qt.DropAction.LinkAction,
            Qt.DropAction.CopyAction,
        )
        print(f"dropped {action.name}", flush=True)


def main(argv: list[str]) -> int:
    title, x, y, *files = argv
    app = QApplication(sys.argv[:1])
    window = Source([Path(f) for f in files])
    window.setWindowTitle(title)
    window.setGeometry(int(x), int(y), 180, 120)
    window.show()
    print("ready", flush=True)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
