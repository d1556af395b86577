"""File → Open team library…: the two addresses of a team library (its PostgreSQL
database and its storage), a password field that is never saved, and path-style S3
addressing. The dialog only checks the addresses; the session opens the library on a
worker (``libraries.LibrarySession.switch``), so the window goes on working meanwhile.
Shown again, filled in and with the reason, when opening fails (a password asked for)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import LibraryError
from imageshelf.app.library import library_address as addresses
from imageshelf.app.library.library_address import LibraryAddress

_HELP = (
    "A team library keeps its images' records in PostgreSQL and their files in an "
    "S3-compatible store, shared by every window and server of the team. "
    "The password is not remembered: leave it empty to use PGPASSWORD or ~/.pgpass. "
    "S3 credentials, region and endpoint come from the AWS environment "
    "(AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ~/.aws)."
)


class TeamLibraryDialog(QDialog):
    """``address()`` after ``exec()`` is accepted: the checked addresses, the password
    put into the database URL for this open only."""

    def __init__(
        self,
        parent: QWidget | None = None,
        filled: LibraryAddress | None = None,
        problem: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open team library")
        self.setMinimumWidth(560)
        self.database = QLineEdit(self)
        self.database.setPlaceholderText("postgresql://alice@db.example.org/imageshelf")
        self.database.setAccessibleName("Database URL")
        self.storage = QLineEdit(self)
        self.storage.setPlaceholderText("s3://team-images/library")
        self.storage.setAccessibleName("Storage URL")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("from PGPASSWORD or ~/.pgpass when empty")
        self.password.setAccessibleName("Database password")
        self.path_style = QCheckBox("Path-style S3 addresses (MinIO, Garage, SeaweedFS)", self)
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.setAccessibleName("Problem")
        if filled is not None:
            self._fill(filled)
        self.show_problem(problem)

        form = QFormLayout()
        form.addRow("&Database:", self.database)
        form.addRow("&Password:", self.password)
        form.addRow("&Storage:", self.storage)
        form.addRow("", self.path_style)
        note = QLabel(_HELP, self)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self._address: LibraryAddress | None = None
        # Tab goes down the form as it reads (the widgets were made in another order).
        self.setTabOrder(self.database, self.password)
        self.setTabOrder(self.password, self.storage)
        self.setTabOrder(self.storage, self.path_style)
        (self.password if filled is not None else self.database).setFocus()

    def _fill(self, filled: LibraryAddress) -> None:
        storage = filled.storage or ""
        for suffix in ("?path_style=1", "&path_style=1"):
            if storage.endswith(suffix):
                storage = storage.removesuffix(suffix)
                self.path_style.setChecked(True)
        self.database.setText(addresses.public_database_url(filled.database or ""))
        self.storage.setText(storage)

    def show_problem(self, problem: str | None) -> None:
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))

    def accept(self) -> None:
        """Checks the addresses (a mistake is said here, the dialog stays open)."""
        database = self.database.text().strip()
        password = self.password.text()
        try:
            address = addresses.team(
                database, self.storage.text().strip(), path_style=self.path_style.isChecked()
            )
            if password:
                public = addresses.public_database_url(database)
                address = LibraryAddress(
                    database=addresses.with_password(public, password), storage=address.storage
                )
        except (LibraryError, ValueError) as exc:
            self.show_problem(exc.message if isinstance(exc, LibraryError) else str(exc))
            return
        self._address = address
        super().accept()

    def address(self) -> LibraryAddress | None:
        return self._address


def ask(
    parent: QWidget | None, filled: LibraryAddress | None = None, problem: str | None = None
) -> LibraryAddress | None:
    dialog = TeamLibraryDialog(parent, filled, problem)
    try:
        return dialog.address() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()
