"""The screenshot of *File → Open team library…* for the README, filled in as a newsroom
would (nothing is opened). Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python
docs/screenshots/take_team_dialog.py``."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from imageshelf.app.ui.team_dialog import TeamLibraryDialog

OUT = Path(__file__).resolve().parent / "open-team-library.png"


def main() -> None:
    app = QApplication(sys.argv)
    dialog = TeamLibraryDialog()
    dialog.database.setText("postgresql://alice@db.newsroom.lan/imageshelf")
    dialog.storage.setText("s3://newsroom-images/library")
    dialog.path_style.setChecked(True)
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(OUT))
    print(OUT)


if __name__ == "__main__":
    main()
