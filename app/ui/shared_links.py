"""*Shared links*: every share link not revoked — what it shares, how many images, when
it was made and expires, whether it needs a password — and *Revoke*, which takes effect
at once. Reading and revoking run in workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import Library
from imageshelf.app.library.records import now_us, us_to_datetime
from imageshelf.app.library.shares import Share, describe_scope

from .jobs import CallJob, JobRunner

if TYPE_CHECKING:
    from .main_window import MainWindow

COLUMNS = ("Shares", "Images", "Made", "Expires", "Password")


@dataclass(frozen=True)
class Row:
    share: Share
    image_count: int


def _when(us: int | None) -> str:
    if us is None:
        return "never"
    return us_to_datetime(us).astimezone().strftime("%Y-%m-%d %H:%M")


class SharedLinksDialog(QDialog):
    def __init__(self, library: Library, jobs: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library, self.jobs = library, jobs
        self.rows: list[Row] = []
        self.setWindowTitle("Shared links")
        self.resize(640, 360)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Shared links")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.status = QLabel("Loading…", self)
        self.status.setWordWrap(True)
        self.revoke_button = QPushButton("&Revoke", self)
        self.revoke_button.setEnabled(False)
        self.revoke_button.setToolTip("The link stops working at once")
        self.revoke_button.clicked.connect(self.ask_revoke)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.revoke_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(row)
        self.reload()

    def reload(self) -> CallJob:
        shares = self.library.shares

        def call() -> list[Row]:
            return [Row(s, shares.image_count(s)) for s in shares.active()]

        job = CallJob(call)
        job.finished.connect(self._show)
        job.failed.connect(self.status.setText)
        self.jobs.start(job)
        return job

    def _show(self, rows: list[Row]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        now = now_us()
        for n, r in enumerate(rows):
            expires = _when(r.share.expires_at_us)
            if r.share.expired(now):
                expires = f"expired {expires}"
            cells = (
                describe_scope(r.share),
                str(r.image_count),
                _when(r.share.created_at_us),
                expires,
                "yes" if r.share.has_password else "no",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 1:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(n, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.status.setText(
            f"{len(rows)} link" + ("" if len(rows) == 1 else "s") + " working or expired."
            if rows
            else "No shared links. Make one with Share… on a selection or a folder."
        )
        self._selection_changed()

    def _selection_changed(self) -> None:
        self.revoke_button.setEnabled(bool(self.selected()))

    def selected(self) -> list[Share]:
        picked = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self.rows[i].share for i in sorted(picked) if i < len(self.rows)]

    def ask_revoke(self) -> None:
        picked = self.selected()
        if not picked:
            return
        answer = QMessageBox.question(
            self,
            "Revoke",
            f"Revoke {len(picked)} link"
            + ("" if len(picked) == 1 else "s")
            + "? Whoever has it can no longer open it.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.revoke([s.id for s in picked])

    def revoke(self, ids: list[str]) -> CallJob:
        shares = self.library.shares

        def call() -> int:
            for share_id in ids:
                shares.revoke(share_id)
            return len(ids)

        job = CallJob(call)
        job.finished.connect(lambda _n: self.reload())
        job.failed.connect(self.status.setText)
        self.revoke_button.setEnabled(False)
        self.jobs.start(job)
        return job


def show_shared_links(window: MainWindow) -> SharedLinksDialog:
    dialog = SharedLinksDialog(window.library, window.jobs, window)
    dialog.open()
    return dialog
