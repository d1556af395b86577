"""*Add from URL…* (File menu, Ctrl+Shift+V) and web addresses pasted into the grid: each
address is fetched on a worker through the same core call as the API's
``upload_via_url`` (``Library.add_from_url``: the SSRF rules, limits and validated write),
into the folder shown, with progress and Cancel. What went wrong is said in the dialog, in
words, next to the address."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from imageshelf.app.library import ImageRecord, Library, LibraryError, NotFound, rules
from imageshelf.app.library.errors import Cancelled, Gone
from imageshelf.app.library.url_fetch import Cancel, parse_url

from .jobs import Job

if TYPE_CHECKING:
    from .main_window import MainWindow

MIB = 1024 * 1024
_OWN_LINK = re.compile(r"/i/(img_[0-9A-Za-z]{26})")
WAITING, FETCHING, ADDED = "Waiting", "Fetching…", "Added"


def in_words(exc: LibraryError) -> tuple[str, str]:
    """The core's refusal as the window says it: a few words for the list, and the
    whole of it for the line below (and the row's tooltip)."""
    mb = rules.MAX_UPLOAD_BYTES // MIB
    said = {
        "url_not_allowed": ("Refused: a local address", "Refused: that address is on this "
                            "computer or its local network, which Imageshelf does not fetch "
                            f"from ({rules.FETCH_ALLOW_ENV} can allow it)."),
        "invalid_url": ("Not a web address", exc.message),
        "too_large": (f"Too big (over {mb} MB)", f"Too big: the file there is over {mb} MB, "
                      "the most an image may be."),
        "unsupported_format": ("Not an image", "Not an image: what that address sent is not "
                               f"an image the library keeps ({rules.HUMAN_FORMAT_LIST})."),
        "malformed_image": ("Not an image", "Not an image: what that address sent could not "
                            "be read as one."),
        "too_many_pixels": ("Too many pixels", "Too many pixels: more than "
                            f"{rules.MAX_PIXELS // 1_000_000} megapixels."),
        "upstream_timeout": ("Timed out", "Timed out: the server there took too long to send "
                             "the image."),
        "upstream_error": ("Could not fetch it", f"Could not fetch it: {exc.message}"),
        "duplicate": ("Already in the library", exc.message),
        "cancelled": ("Stopped", "Stopped; nothing was added."),
    }  # fmt: skip
    return said.get(exc.code, ("Not added", exc.message))


def web_addresses(text: str) -> list[str]:
    """The http(s) addresses in pasted text, one per word, in order, without repeats."""
    found: list[str] = []
    for word in text.split():
        word = word.strip("<>\"'()[],")
        if re.match(r"(?i)https?://", word) and word not in found:
            found.append(word)
    return found[: rules.MAX_PASTED_URLS]


def size_text(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < MIB:
        return f"{n / 1024:.0f} KB"
    return f"{n / MIB:.1f} MB"


@dataclass
class Outcome:
    index: int
    record: ImageRecord | None
    short: str = ""  # "" when added
    message: str = ""


class UrlJob(Job):
    """Fetches the addresses one after the other; Cancel stops the one being fetched (its
    connection is shut) and the ones after it."""

    fetching = Signal(int)  # index of the address now being fetched
    received = Signal(int, int)  # bytes so far, bytes announced (-1: not said)
    url_done = Signal(object)  # Outcome

    def __init__(self, library: Library, urls: list[str], folder: str | None) -> None:
        super().__init__()
        self.library = library
        self.urls = urls
        self.folder = folder
        self._stop = threading.Event()
        self._current = Cancel()

    def cancel(self) -> None:
        self._stop.set()
        self._current.cancel()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def work(self) -> list[Outcome]:
        outcomes = []
        for index, url in enumerate(self.urls):
            if self._stop.is_set():
                outcome = Outcome(index, None, *in_words(Cancelled("")))
            else:
                self.fetching.emit(index)
                outcome = self._one(index, url)
            outcomes.append(outcome)
            self.url_done.emit(outcome)
        return outcomes

    def _one(self, index: int, url: str) -> Outcome:
        cancel = self._current = Cancel()
        if self._stop.is_set():
            cancel.cancel()
        own = _OWN_LINK.search(url)
        if own is not None:  # a link copied from this window (Copy link) pasted back
            try:
                record = self.library.get(own.group(1))
            except (NotFound, Gone):
                pass
            else:
                said = f"This is a link to {record.relpath}, already in the library."
                return Outcome(index, None, "Already in the library", said)
        try:
            record = self.library.add_from_url(
                url,
                folder=self.folder,
                cancel=cancel,
                progress=lambda got, of: self.received.emit(got, -1 if of is None else of),
                allow_duplicate=False,
            )
        except LibraryError as exc:
            return Outcome(index, None, *in_words(exc))
        return Outcome(index, record)


class AddFromUrlDialog(QDialog):
    """Type or paste an address, press Add; each address gets a row with what became of
    it. Closes itself when everything asked for was added; stays open on a refusal so
    the address can be corrected. Closing it while fetching cancels."""

    added = Signal(object)  # ImageRecord
    settled = Signal()  # every address asked for has its result

    def __init__(self, window: MainWindow, folder: str | None) -> None:
        super().__init__(window)
        self.window_ = window
        self.folder = folder
        self.job: UrlJob | None = None
        self.pending: list[str] = []
        self.rows: dict[int, QTreeWidgetItem] = {}  # index in the running job -> row
        self.failed = 0
        self.setWindowTitle("Add from URL")
        self.setAccessibleName("Add from URL")
        intro = QLabel("Web address of an image (http or https), or several separated by spaces:")
        intro.setWordWrap(True)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("https://example.com/photo.jpg")
        self.edit.setAccessibleName("Image address")
        self.edit.setClearButtonEnabled(True)
        intro.setBuddy(self.edit)
        self.where = where = QLabel(self)
        where.setAccessibleName("Destination folder")
        self.set_folder(folder)
        self.list = QTreeWidget(self)
        self.list.setAccessibleName("Addresses")
        self.list.setHeaderLabels(["Address", "Result"])
        self.list.setRootIsDecorated(False)
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.header().setStretchLastSection(True)
        self.list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.list.hide()
        self.list.currentItemChanged.connect(lambda *_: self._show_why())
        self.status = QLabel(self)
        self.status.setAccessibleName("Status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar(self)
        self.bar.setAccessibleName("Download progress")
        self.bar.hide()
        self.buttons = QDialogButtonBox(self)
        self.add_button = QPushButton("&Add", self)
        self.add_button.setDefault(True)
        self.add_button.setAccessibleName("Add")
        self.cancel_button = QPushButton("&Stop", self)
        self.cancel_button.setAccessibleName("Stop fetching")
        self.cancel_button.setEnabled(False)
        self.buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.add_button.clicked.connect(self.add_typed)
        self.edit.returnPressed.connect(self.add_typed)
        self.cancel_button.clicked.connect(self.cancel)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.edit)
        layout.addWidget(where)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(620, 200)

    def set_folder(self, folder: str | None) -> None:
        self.folder = folder
        self.where.setText(f"Into: {folder or 'the top level of the library'}")

    def reset(self, folder: str | None) -> None:
        """Opened again: a clean dialog for the folder shown now."""
        if self.job is None:
            self.list.clear()
            self.list.hide()
            self.failed = 0
            self.say("")
            self.set_folder(folder)
            self.resize(self.width(), 200)

    # --- asking ---------------------------------------------------------------------------

    def add_typed(self) -> None:
        text = self.edit.text().strip()
        if not text:
            self.say("Type or paste the address of an image first.", error=True)
            return
        urls = web_addresses(text) or [text]
        for url in urls:
            try:
                parse_url(url)  # no lookup, no disk: just the address's shape
            except LibraryError as exc:
                self.say(f"{url[:200]}: {exc.message}", error=True)
                self.edit.setFocus()
                return
        self.edit.clear()
        self.fetch(urls)

    def fetch(self, urls: list[str]) -> None:
        """Queues ``urls``; they are fetched after those already under way."""
        self.pending.extend(u for u in urls if u not in self.pending)
        if self.job is None:
            self._start()

    def _start(self) -> None:
        urls, self.pending = self.pending, []
        if not urls:
            return
        self.job = job = UrlJob(self.window_.library, urls, self.folder)
        self.rows = {}
        for index, url in enumerate(urls):
            row = QTreeWidgetItem([url, WAITING])
            row.setToolTip(0, url)
            self.list.addTopLevelItem(row)
            self.rows[index] = row
        self.list.show()
        self.list.header().resizeSection(0, 380)
        self.resize(self.width(), max(self.height(), 340))
        job.fetching.connect(self._on_fetching)
        job.received.connect(self._on_received)
        job.url_done.connect(self._on_done)
        job.finished.connect(lambda _r, j=job: self._finished(j))
        job.failed.connect(self._failed)
        self.cancel_button.setEnabled(True)
        self.bar.show()
        self.window_.jobs.start(job)

    def cancel(self) -> None:
        self.pending.clear()
        if self.job is not None:
            self.job.cancel()
            self.say("Stopping…")

    def reject(self) -> None:  # Escape, Close, the window's close button
        self.cancel()
        super().reject()

    # --- what the job says -----------------------------------------------------------------

    def _on_fetching(self, index: int) -> None:
        self.rows[index].setText(1, FETCHING)
        self.bar.setRange(0, 0)
        self.say(f"Fetching {self.rows[index].text(0)}…")

    def _on_received(self, got: int, of: int) -> None:
        if of > 0:
            self.bar.setRange(0, of)
            self.bar.setValue(min(got, of))
        self.bar.setFormat(size_text(got) + (f" of {size_text(of)}" if of > 0 else ""))

    def _on_done(self, outcome: Outcome) -> None:
        row = self.rows[outcome.index]
        if outcome.record is not None:
            where = outcome.record.relpath
            row.setText(1, f"{ADDED} as {where}")
            self.added.emit(outcome.record)
            self.window_.notify(f"Added {where} from the web.")
        else:
            self.failed += 1
            row.setText(1, outcome.short)
            row.setToolTip(1, outcome.message)
            row.setData(1, Qt.ItemDataRole.UserRole, outcome.message)

    def _finished(self, job: UrlJob) -> None:
        self.job = None
        self.cancel_button.setEnabled(False)
        self.bar.hide()
        if self.pending:
            self._start()
            return
        self.settled.emit()
        if self.failed:
            said = [self._why(self.list.topLevelItem(i))
                    for i in range(self.list.topLevelItemCount())]  # fmt: skip
            refused = [w for w in said if w]
            self.say(refused[-1] if len(refused) == 1 else
                     f"{len(refused)} addresses were not added. Select one to read why.",
                     error=True)  # fmt: skip
        elif job.cancelled:
            self.say("Stopped.")
        else:
            self.accept()  # everything asked for is in the library

    @staticmethod
    def _why(row: QTreeWidgetItem | None) -> str:
        return str(row.data(1, Qt.ItemDataRole.UserRole) or "") if row is not None else ""

    def _show_why(self) -> None:
        why = self._why(self.list.currentItem())
        if why:
            self.say(why, error=True)

    def _failed(self, message: str) -> None:
        self.job = None
        self.cancel_button.setEnabled(False)
        self.bar.hide()
        self.say(message, error=True)
        self.settled.emit()

    def say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("font-weight: bold;" if error else "")


def open_dialog(window: MainWindow, urls: list[str] | None = None) -> AddFromUrlDialog:
    """The window's one Add from URL dialog (a second Ctrl+U brings it forward); with
    ``urls`` (a paste) they are fetched at once."""
    dialog = window.findChild(AddFromUrlDialog)
    if dialog is None:
        dialog = AddFromUrlDialog(window, window.target_folder())
    elif dialog.isVisible():
        dialog.activateWindow()  # behind the window: brought forward (a window manager raises it)
    else:
        dialog.reset(window.target_folder())
    dialog.show()
    if urls:
        dialog.fetch(urls)
        return dialog
    if not dialog.edit.text() and dialog.job is None:
        # An address copied in the browser is offered, selected: Enter takes it, typing
        # replaces it.
        offered = web_addresses(QApplication.clipboard().text())
        dialog.edit.setText(" ".join(offered))
        dialog.edit.selectAll()
    dialog.edit.setFocus()
    return dialog
