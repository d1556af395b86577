"""A second program for the real-input tests, standing in for a file manager, a browser
or an editor: a window that takes whatever is dropped on it and writes what it received
to a JSON file: the formats offered, the URLs, and the image if one came along. While a
drag is over it, OUT.over exists.

python -m tests.desktop.drop_target TITLE X Y OUT.json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QLabel


class Target(QLabel):
    def __init__(self, out: Path) -> None:
        super().__init__("Drop here")
        self.out = out
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: #7cf; color: black; font-size: 14px;")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        event.acceptProposedAction()
        self.out.with_suffix(".over").write_text(" ".join(event.mimeData().formats()))

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        received: dict[str, object] = {
            "formats": mime.formats(),
            "urls": [u.toString() for u in mime.urls()],
            "action": event.proposedAction().name,
            # What a text editor or a browser would insert (issue 18: <img … alt="…">).
            "html": mime.html() if mime.hasHtml() else None,
            "text": mime.text() if mime.hasText() else None,
        }
        for fmt in mime.formats():
            if fmt.startswith("image/"):
                image = QImage.fromData(bytes(mime.data(fmt).data()))
                received["image"] = {"format": fmt, "size": [image.width(), image.height()]}
                break
        event.acceptProposedAction()
        temp = self.out.with_name(self.out.name + ".tmp")
        temp.write_text(json.dumps(received), encoding="utf-8")
        os.replace(temp, self.out)
        self.setText(f"Received {len(received['urls'])} URL(s)")  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    title, x, y, out = argv
    app = QApplication(sys.argv[:1])
    window = Target(Path(out))
    window.setWindowTitle(title)
    window.setGeometry(int(x), int(y), 220, 160)
    window.show()
    print("ready", flush=True)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
