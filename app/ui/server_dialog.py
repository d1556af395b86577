"""Server settings: the port, "Share on the local network" with the LAN address to copy,
the library's "Share location in image links" (off: links send photos without their GPS
position), and the API token — shown, copyable and regenerable (the server restarts
with it); on a second page, the library's API keys (``api_keys_page.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import api_token, rules, settings

from . import notices
from .api_keys_page import ApiKeysPage
from .jobs import CallJob, Job, JobRunner
from .qr_code import QrLabel
from .server_control import ServerController

if TYPE_CHECKING:
    from .main_window import MainWindow


def _copy_row(edit: QLineEdit, name: str, parent: QWidget) -> tuple[QHBoxLayout, QPushButton]:
    button = QPushButton("Copy", parent)
    button.setAccessibleName(f"Copy {name}")
    button.clicked.connect(lambda: QApplication.clipboard().setText(edit.text()))
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row, button


class ServerSettingsDialog(QDialog):
    location_saved = Signal(bool)  # *Share location in links*, once it is in the library

    def __init__(self, controller: ServerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Server settings")
        self.setMinimumWidth(520)

        self.port = QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setValue(controller.actual_port or rules.DEFAULT_PORT)
        self.port.setAccessibleName("Port")
        self.share = QCheckBox("Share on the local &network", self)
        self.share.setChecked(controller.sharing)
        self.share.setAccessibleName("Share on the local network")
        self.share.setToolTip(
            "Listen on every network interface, so other computers on this network can "
            "use the API and the image links. Off: only this computer can."
        )
        # The library's own setting (it travels with the library, not with this computer):
        # in the database, so read and written on a worker; the box waits for the read.
        self.jobs = JobRunner(self)
        self.location_shared: bool | None = None  # None until read
        self.share_location = QCheckBox("Share &location in image links", self)
        self.share_location.setEnabled(False)
        self.share_location.setAccessibleName("Share location in image links")
        self.share_location.setToolTip(
            "Off: a photo's GPS position is taken out of the copy an image link sends "
            "(the file in the library keeps it). On: links send the file as it is, "
            "location included."
        )
        self.url = QLineEdit(self)
        self.url.setReadOnly(True)
        self.url.setAccessibleName("Address of the server")
        url_row, self.copy_url = _copy_row(self.url, "address", self)
        token, from_env = self._token()
        self.token = QLineEdit(token or "", self)
        self.token.setReadOnly(True)
        self.token.setAccessibleName("API token")
        # The whole token, in a font where every character can be told apart (l, 1, I).
        self.token.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._fit_token()
        token_row, self.copy_token = _copy_row(self.token, "API token", self)
        self.regenerate = QPushButton("&Regenerate…", self)
        self.regenerate.setAccessibleName("Regenerate API token")
        self.regenerate.setToolTip("Make a new token; scripts using the old one stop working")
        self.regenerate.clicked.connect(self.regenerate_token)
        token_row.addWidget(self.regenerate)
        self.token_note = QLabel(self)
        self.token_note.setWordWrap(True)
        if from_env:
            from imageshelf.server.auth import TOKEN_ENV

            # Regenerating the library's token would not change the one the server checks.
            self.regenerate.setEnabled(False)
            self.token_note.setText(
                f"Set by the environment variable {TOKEN_ENV}, as for 'imageshelf serve'. "
                "Unset it to use the library's own token."
            )
        self.token_note.setVisible(from_env)
        self.state = QLabel(self)
        self.state.setWordWrap(True)
        self.state.setAccessibleName("Server state")
        self.note = QLabel(self)  # "takes effect when you press OK", or nothing
        self.note.setAccessibleName("Pending change")
        # Room for the note is kept while it is empty: the dialog does not jump as the
        # port is typed.
        self.note.setMinimumHeight(self.note.fontMetrics().lineSpacing() * 2)
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop)

        form = QFormLayout()
        form.addRow("&Port:", self.port)
        form.addRow("", self.share)
        form.addRow("", self.share_location)
        form.addRow("Address:", url_row)
        # The LAN address as a QR code, for a phone's camera (only while shared).
        self.url_qr = QrLabel(self, side=160)
        form.addRow("", self.url_qr)
        form.addRow("API token:", token_row)
        form.addRow("", self.token_note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.apply_and_close)
        buttons.rejected.connect(self.reject)
        server_page = QWidget(self)
        page_layout = QVBoxLayout(server_page)
        page_layout.addLayout(form)
        page_layout.addWidget(self.state)
        page_layout.addWidget(self.note)
        page_layout.addStretch(1)
        self.keys_page = ApiKeysPage(controller.library, self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(server_page, "&Server")
        self.tabs.addTab(self.keys_page, "API &keys")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.share.toggled.connect(self._refresh)
        self.share_location.toggled.connect(self._refresh)
        self.port.valueChanged.connect(self._refresh)
        self._refresh()
        library = controller.library
        read = CallJob(lambda: settings.share_location_in_links(library))
        read.finished.connect(self._location_read)
        self.jobs.start(read)
        if token is None:  # the library's token, not read yet: read on a worker
            self.regenerate.setEnabled(False)
            read_token = CallJob(library.api_token)
            read_token.finished.connect(self._token_made)
            read_token.failed.connect(lambda message: self._token_refused("read", message))
            self.jobs.start(read_token)

    def _location_read(self, shared: object) -> None:
        self.location_shared = bool(shared)
        self.share_location.blockSignals(True)  # showing the setting is not changing it
        self.share_location.setChecked(self.location_shared)
        self.share_location.blockSignals(False)
        self.share_location.setEnabled(True)

    def _refresh(self) -> None:
        from .server_control import lan_address

        port = self.port.value()
        if self.share.isChecked():
            ip = lan_address()
            self.url.setText(f"http://{ip}:{port}" if ip else f"http://<this computer>:{port}")
        else:
            self.url.setText(f"http://127.0.0.1:{port}")
        lan = self.share.isChecked() and "<" not in self.url.text()
        self.url_qr.show_code(self.url.text() if lan else "", "QR code of the LAN address")
        self.url_qr.setVisible(lan)
        self.state.setText(self.controller.status_text())
        changed = (
            port != self.controller.actual_port
            or self.share.isChecked() != self.controller.sharing
            or (
                self.location_shared is not None
                and self.share_location.isChecked() != self.location_shared
            )
        )
        self.note.setText("The change takes effect when you press OK." if changed else "")

    def _token(self) -> tuple[str | None, bool]:
        """The token shown, and whether the environment set it; ``None``: the library's
        own, not known yet (it is in the library folder: read on a worker)."""
        if self.controller.token is not None:
            return self.controller.token, self.controller.token_from_env
        from_env = api_token.from_environment()
        if from_env:
            return from_env, True
        return self.controller.library_token, False

    def _fit_token(self) -> None:
        width = self.token.fontMetrics().horizontalAdvance(self.token.text() + "MM")
        self.token.setMinimumWidth(width)
        self.token.setCursorPosition(0)

    def _apply_location(self) -> None:
        """Saves *Share location in links* on a worker when it was changed; a refusal
        puts the box back and says why."""
        wanted = self.share_location.isChecked()
        if self.location_shared is None or wanted == self.location_shared:
            return
        before, library = self.location_shared, self.controller.library
        self.location_shared = wanted
        job = CallJob(lambda: settings.put(library, settings.SHARE_LOCATION_IN_LINKS, wanted))
        job.finished.connect(lambda _r: self.location_saved.emit(wanted))
        job.failed.connect(lambda message: self._location_refused(before, message))
        self.jobs.start(job)

    def _location_refused(self, before: bool, message: str) -> None:
        self.location_shared = before
        self.share_location.blockSignals(True)
        self.share_location.setChecked(before)
        self.share_location.blockSignals(False)
        notices.warn(self.parentWidget() or self, "The setting could not be saved", message)

    def apply(self) -> bool:
        self._apply_location()
        error = self.controller.reconfigure(port=self.port.value(), sharing=self.share.isChecked())
        if error and self.controller.running:
            # Back to what runs, so the dialog shows the truth.
            self.port.setValue(self.controller.actual_port)
            self.share.setChecked(self.controller.sharing)
        self._refresh()
        if error:
            title = "The port could not be used" if self.controller.running else "The server is off"
            # Said inside the very dialog where the port is chosen.
            notices.warn(self, title, error.replace(" in File → Server settings", ""))
            return False
        return True

    def done(self, result: int) -> None:
        self.keys_page.shutdown()  # its database calls end before the dialog goes
        super().done(result)

    def apply_and_close(self) -> None:
        if self.apply():
            self.accept()

    def regenerate_token(self) -> Job | None:
        """Asks, then writes a new token into the library on a worker; the server
        restarts with it once it is written (``_token_made``)."""
        if not notices.confirm(
            self,
            "Regenerate the API token?",
            "Scripts and tools that use the current token will stop working until they "
            "are given the new one.",
        ):
            return None
        self.regenerate.setEnabled(False)  # one at a time
        job = CallJob(self.controller.library.regenerate_api_token)
        job.finished.connect(lambda token: self._token_made(token, restart=True))
        job.failed.connect(lambda message: self._token_refused("regenerate", message))
        return self.jobs.start(job)

    def _token_made(self, token: object, restart: bool = False) -> None:
        self.controller.library_token = str(token)
        self.token.setText(str(token))
        self._fit_token()
        self.regenerate.setEnabled(True)
        if restart and self.controller.running:
            self.controller.start()  # the server checks the token it was started with
        self._refresh()

    def _token_refused(self, verb: str, message: str) -> None:
        self.regenerate.setEnabled(True)
        notices.warn(self, f"Imageshelf could not {verb} the API token", message)


def open_for(window: MainWindow) -> ServerSettingsDialog:
    """File → Server settings…: the dialog on the window's server; on OK the port and
    sharing it runs with are remembered for the next start."""
    dialog = ServerSettingsDialog(window.server, window)

    def remember() -> None:
        window.settings.setValue("server/port", window.server.port)
        window.settings.setValue("server/share", window.server.sharing)

    dialog.accepted.connect(remember)
    dialog.open()
    return dialog
