"""The *API keys* page of Server settings: the library's keys (name, scope, folders,
expiry, last use), a new one made from a preset — its secret shown once, with Copy — and
revoking one after a confirmation. Every database call runs on a worker (``jobs``); the
page only shows what comes back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import Library
from imageshelf.app.library.keys import ApiKey

from . import notices
from .jobs import CallJob, JobRunner

# What a person picks, and the scope it stands for.
PRESETS: Final = (
    ("Read-only: list and download images", "read"),
    ("Upload-only: add images, see nothing", "upload"),
    ("Editor: read, upload, describe, move, delete", "edit"),
    ("Admin: everything, keys included", "admin"),
)
EXPIRY: Final = (
    ("Never", None),
    ("In 1 day", 1),
    ("In 7 days", 7),
    ("In 30 days", 30),
    ("In 90 days", 90),
    ("In 1 year", 365),
)
COLUMNS: Final = ("Name", "Scope", "Folders", "Expires", "Last used")


def _local(value: int | None, none: str) -> str:
    if value is None:
        return none
    return datetime.fromtimestamp(value / 1e6, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M")


class NewKeyDialog(QDialog):
    """Name, preset, folders (optional) and expiry of a new key."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New API key")
        self.name = QLineEdit(self)
        self.name.setAccessibleName("Key name")
        self.name.setPlaceholderText("e.g. phone-uploads")
        self.preset = QComboBox(self)
        self.preset.setAccessibleName("What the key may do")
        for label, scope in PRESETS:
            self.preset.addItem(label, scope)
        self.folders = QLineEdit(self)
        self.folders.setAccessibleName("Folders the key is limited to")
        self.folders.setPlaceholderText("every folder (or: inbox, clients/acme)")
        self.expires = QComboBox(self)
        self.expires.setAccessibleName("Expires")
        for label, days in EXPIRY:
            self.expires.addItem(label, days)
        form = QFormLayout()
        form.addRow("&Name:", self.name)
        form.addRow("&Allows:", self.preset)
        form.addRow("&Folders:", self.folders)
        form.addRow("&Expires:", self.expires)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.preset.currentIndexChanged.connect(self._admin_has_no_folders)

    def _admin_has_no_folders(self) -> None:
        admin = self.preset.currentData() == "admin"
        self.folders.setEnabled(not admin)
        if admin:
            self.folders.clear()

    def values(self) -> tuple[str, str, list[str] | None, int | None]:
        folders = [f.strip() for f in self.folders.text().split(",") if f.strip()]
        return (
            self.name.text().strip(),
            str(self.preset.currentData()),
            folders or None,
            self.expires.currentData(),
        )


class ApiKeysPage(QWidget):
    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.jobs = JobRunner(self)
        self.keys: list[ApiKey] = []
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setAccessibleName("API keys")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.new_key = QPushButton("&New key…", self)
        self.new_key.setAccessibleName("New API key")
        self.new_key.clicked.connect(self.ask_new_key)
        self.revoke = QPushButton("Re&voke…", self)
        self.revoke.setAccessibleName("Revoke the selected API key")
        self.revoke.setEnabled(False)
        self.revoke.clicked.connect(self.ask_revoke)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_key)
        buttons.addWidget(self.revoke)
        buttons.addStretch(1)

        # The secret of a key just made: shown here once, until the page closes.
        self.secret_box = QFrame(self)
        self.secret_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.secret_note = QLabel(self.secret_box)
        self.secret_note.setWordWrap(True)
        self.secret = QLineEdit(self.secret_box)
        self.secret.setReadOnly(True)
        self.secret.setAccessibleName("Secret of the new API key")
        self.secret.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.copy_secret = QPushButton("&Copy", self.secret_box)
        self.copy_secret.setAccessibleName("Copy the secret")
        self.copy_secret.clicked.connect(
            lambda: QApplication.clipboard().setText(self.secret.text())
        )
        secret_row = QHBoxLayout()
        secret_row.addWidget(self.secret, 1)
        secret_row.addWidget(self.copy_secret)
        box = QVBoxLayout(self.secret_box)
        box.addWidget(self.secret_note)
        box.addLayout(secret_row)
        self.secret_box.setVisible(False)

        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("API keys status")
        intro = QLabel(
            "Give each script or person a key of its own, with only what it needs. The "
            "API token on the Server page stays an admin key.",
            self,
        )
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.secret_box)
        layout.addWidget(self.status)
        self.refresh()

    # --- work on a worker --------------------------------------------------------------------

    def _run(self, call: Callable[[], Any], done: Callable[[Any], None]) -> None:
        job = CallJob(call)
        job.finished.connect(done)
        job.failed.connect(self._failed)
        self.jobs.start(job)

    def refresh(self) -> None:
        self._run(self.library.keys.list, self._show)

    def create_key(
        self, name: str, scope: str, folders: list[str] | None, days: int | None
    ) -> None:
        keys = self.library.keys
        self.status.setText("Creating the key…")
        self._run(lambda: keys.create(name, scope, folders, days), self._created)

    def revoke_key(self, name: str) -> None:
        keys = self.library.keys

        def revoke() -> str:
            keys.revoke(name)
            return name

        self.status.setText(f"Revoking {name}…")
        self._run(revoke, self._revoked)

    # --- what a person does ------------------------------------------------------------------

    def ask_new_key(self) -> None:
        dialog = NewKeyDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.create_key(*dialog.values())

    def ask_revoke(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        if notices.confirm(
            self,
            f"Revoke the key {name}?",
            "Scripts and people using it are refused from their next request on. This "
            "cannot be undone (make a new key instead).",
        ):
            self.revoke_key(name)

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item is not None else None

    # --- answers, on the GUI thread ----------------------------------------------------------

    def _show(self, keys: list[ApiKey]) -> None:
        self.keys = keys
        self.table.setRowCount(len(keys))
        for row, key in enumerate(keys):
            cells = (
                key.name,
                key.scope,
                ", ".join(key.folders) if key.folders else "All folders",
                _local(key.expires_at_us, "Never"),
                _local(key.last_used_at_us, "Not yet"),
            )
            for column, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if column == 3 and key.expired():
                    item.setText(f"{value} (expired)")
                self.table.setItem(row, column, item)
        if not keys and not self.secret_box.isVisible():
            self.status.setText("No keys yet: only the library's token can use the API.")
        self._selection_changed()

    def _created(self, made: tuple[ApiKey, str]) -> None:
        key, secret = made
        self.secret.setText(secret)
        self.secret.setCursorPosition(0)
        self.secret_note.setText(
            f"The secret of {key.name} ({key.scope}). Copy it now: it is shown only this "
            "once, and only its fingerprint is kept."
        )
        self.secret_box.setVisible(True)
        self.status.setText("")
        self.refresh()

    def _revoked(self, name: str) -> None:
        self.status.setText(f"Revoked {name}.")
        self.refresh()

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _selection_changed(self) -> None:
        self.revoke.setEnabled(self.selected_name() is not None)

    def shutdown(self) -> None:
        self.jobs.shutdown()
