"""Server settings: the port, "Share on the local network" with the LAN address to copy,
and the API token — shown, copyable and regenerable (the server restarts with it)."""

from __future__ import annotations

from PySide6.QtCore import Qt
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
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import rules

from . import notices
from .server_control import ServerController


def _copy_row(edit: QLineEdit, name: str, parent: QWidget) -> tuple[QHBoxLayout, QPushButton]:
    button = QPushButton("Copy", parent)
    button.setAccessibleName(f"Copy {name}")
    button.clicked.connect(lambda: QApplication.clipboard().setText(edit.text()))
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row, button


class ServerSettingsDialog(QDialog):
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
        self.url = QLineEdit(self)
        self.url.setReadOnly(True)
        self.url.setAccessibleName("Address of the server")
        url_row, self.copy_url = _copy_row(self.url, "address", self)
        token, from_env = self._token()
        self.token = QLineEdit(token, self)
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
        form.addRow("Address:", url_row)
        form.addRow("API token:", token_row)
        form.addRow("", self.token_note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.apply_and_close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.state)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.share.toggled.connect(self._refresh)
        self.port.valueChanged.connect(self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        from .server_control import lan_address

        port = self.port.value()
        if self.share.isChecked():
            ip = lan_address()
            self.url.setText(f"http://{ip}:{port}" if ip else f"http://<this computer>:{port}")
        else:
            self.url.setText(f"http://127.0.0.1:{port}")
        self.state.setText(self.controller.status_text())
        changed = (
            port != self.controller.actual_port or self.share.isChecked() != self.controller.sharing
        )
        self.note.setText("The change takes effect when you press OK." if changed else "")

    def _token(self) -> tuple[str, bool]:
        if self.controller.token is not None:
            return self.controller.token, self.controller.token_from_env
        from imageshelf.server.auth import configured_token

        return configured_token(self.controller.library)

    def _fit_token(self) -> None:
        width = self.token.fontMetrics().horizontalAdvance(self.token.text() + "MM")
        self.token.setMinimumWidth(width)
        self.token.setCursorPosition(0)

    def apply(self) -> bool:
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

    def apply_and_close(self) -> None:
        if self.apply():
            self.accept()

    def regenerate_token(self) -> None:
        if not notices.confirm(
            self,
            "Regenerate the API token?",
            "Scripts and tools that use the current token will stop working until they "
            "are given the new one.",
        ):
            return
        self.token.setText(self.controller.library.regenerate_api_token())
        self._fit_token()
        if self.controller.running:
            self.controller.start()  # the server checks the token it was started with
        self._refresh()
