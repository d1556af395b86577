"""Screenshots of *Copy sized link…* on the sample library of ``take.py``: the dialog over
the window, and the details pane showing the link *Copy link* copies. Run under a display
(``xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python
docs/screenshots/take_sized_link.py``); settings go to a temp folder."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QRadioButton

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from take import OUT, build  # noqa: E402

from imageshelf.app.ui.main_window import MainWindow  # noqa: E402
from imageshelf.app.ui.server_control import ServerController  # noqa: E402
from imageshelf.app.ui.sized_link import SizedLinkDialog  # noqa: E402


def main() -> None:
    app = QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp(prefix="imageshelf-shots-"))
    library = build(tmp / "My Images")
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    server = ServerController(library, host="127.0.0.1", port=0)
    window = MainWindow(library, settings, server)
    window.resize(1360, 820)
    window.show()
    server.start()

    def select() -> None:
        row = window.model.row_of(library.list_images(search="glow").items[0].id)
        window.grid.setCurrentIndex(window.model.index(row))
        QTimer.singleShot(800, open_dialog)

    def open_dialog() -> None:
        QTimer.singleShot(600, in_dialog)
        window.images.copy_sized_link()  # modal until in_dialog answers
        QTimer.singleShot(600, after)

    def in_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SizedLinkDialog)
        for button in dialog.findChildren(QRadioButton):
            if button.text().replace("&", "") in ("800 px", "WebP"):
                button.click()
        app.processEvents()
        dialog.grab().save(str(OUT / "sized-link-dialog.png"))
        app.primaryScreen().grabWindow(0).save(str(tmp / "screen-dialog.png"))
        print("screen with dialog:", tmp / "screen-dialog.png")
        dialog.accept()

    def after() -> None:
        window.grab().save(str(OUT / "sized-link-details.png"))
        print("clipboard:", QApplication.clipboard().text())
        window.close()
        app.quit()

    QTimer.singleShot(1500, select)
    app.exec()
    library.close()
    print("library:", tmp)


if __name__ == "__main__":
    main()
