"""*Share…*: a share link to the selected images, or to the folder shown (live: images
added later are shared too), with an expiry preset and an optional password. The link is
made in a worker (the password's scrypt hash takes a moment), copied, and shown with its
QR code; a link on localhost/127.0.0.1 is flagged: other devices cannot open it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from imageshelf.app.library import Library, rules
from imageshelf.app.library.shares import NewShare

from .jobs import CallJob, JobRunner
from .qr_code import QrLabel

if TYPE_CHECKING:
    from .main_window import MainWindow
    from .server_control import ServerController

LOCAL_NAMES = ("localhost", "127.", "[::1]", "::1")


@dataclass(frozen=True)
class ShareTarget:
    """What is shared: ``image_ids``, or ``folder`` (``None`` the top level) when
    ``is_folder``."""

    image_ids: tuple[str, ...] = ()
    folder: str | None = None
    is_folder: bool = False
    recursive: bool = False

    @property
    def description(self) -> str:
        if not self.is_folder:
            n = len(self.image_ids)
            return f"{n} selected image" + ("" if n == 1 else "s")
        if self.folder is None:
            return "the whole library" if self.recursive else "the top level"
        return f"the folder “{self.folder}”"


def is_local_only(url: str) -> bool:
    """Whether ``url`` names this computer only: nobody else can open it."""
    host = url.split("://", 1)[-1]
    return host.startswith(LOCAL_NAMES)


def share_link(server: ServerController, token: str) -> str:
    return f"{server.base_url()}{rules.SHARE_LINK_PREFIX}{token}"


class ShareDialog(QDialog):
    def __init__(
        self,
        library: Library,
        server: ServerController,
        jobs: JobRunner,
        target: ShareTarget,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.library, self.server, self.jobs, self.target = library, server, jobs, target
        self.link = ""
        self.setWindowTitle("Share")
        self.setMinimumWidth(460)
        what = QLabel(f"Share {target.description} through a link.", self)
        what.setWordWrap(True)
        self.recursive = QCheckBox("Include &sub-folders", self)
        self.recursive.setChecked(target.recursive)
        self.recursive.setVisible(target.is_folder and target.folder is not None)
        self.expiry = QComboBox(self)
        for label, seconds in rules.SHARE_EXPIRY_PRESETS:
            self.expiry.addItem(label, seconds)
        self.expiry.setCurrentIndex(1)  # a day: long enough to look, short enough to forget
        self.expiry.setAccessibleName("Link expires after")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Optional")
        self.password.setAccessibleName("Password (optional)")
        self.password.setMaxLength(rules.MAX_SHARE_PASSWORD_CHARS)
        self.create_button = QPushButton("&Create link", self)
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.make_link)
        form = QFormLayout()
        form.addRow("", self.recursive)
        form.addRow("&Expires after:", self.expiry)
        form.addRow("&Password:", self.password)
        self.url = QLineEdit(self)
        self.url.setReadOnly(True)
        self.url.setAccessibleName("Share link")
        self.url.setPlaceholderText("The link appears here")
        self.copy = QPushButton("C&opy link", self)
        self.copy.setEnabled(False)
        self.copy.clicked.connect(lambda: QApplication.clipboard().setText(self.link))
        self.qr = QrLabel(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Share status")
        self.warning = QLabel(self)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #a04000")
        self.warning.setVisible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(what)
        layout.addLayout(form)
        layout.addWidget(self.create_button)
        layout.addWidget(self.url)
        layout.addWidget(self.copy)
        layout.addWidget(self.qr)
        layout.addWidget(self.status)
        layout.addWidget(self.warning)
        layout.addWidget(buttons)
        self._warn_if_local(self.server.base_url())

    def _warn_if_local(self, url: str) -> None:
        if not self.server.running:
            text = "The server is off: nobody can open the link until it runs (Server settings)."
        elif is_local_only(url):
            text = (
                "This link works on this computer only: the server is not shared on the "
                "local network. Turn on File → Server settings → Share on the local network "
                "for other devices."
            )
        else:
            text = ""
        self.warning.setText(text)
        self.warning.setVisible(bool(text))

    def make_link(self) -> CallJob:
        """Makes the link in a worker; the dialog shows it when done."""
        self.create_button.setEnabled(False)
        self.status.setText("Making the link…")
        target = self.target
        seconds = self.expiry.currentData()
        password = self.password.text() or None
        recursive = self.recursive.isChecked() if target.is_folder else False
        shares = self.library.shares

        def call() -> NewShare:
            if target.is_folder:
                return shares.create(
                    folder=target.folder,
                    recursive=recursive,
                    expires_in=seconds,
                    password=password,
                    folder_share=True,
                )
            return shares.create(
                image_ids=list(target.image_ids), expires_in=seconds, password=password
            )

        job = CallJob(call)
        job.finished.connect(self._made)
        job.failed.connect(self._failed)
        self.jobs.start(job)
        return job

    def _made(self, made: NewShare) -> None:
        self.link = share_link(self.server, made.token)
        self.url.setText(self.link)
        self.url.setCursorPosition(0)  # the start (the address) is what a person checks
        self.copy.setEnabled(True)
        QApplication.clipboard().setText(self.link)
        self.qr.show_code(self.link, "QR code of the share link")
        expiry = self.expiry.currentText().lower()
        lasts = "never expires" if expiry == "never" else f"expires in {expiry}"
        locked = " and needs the password" if made.share.has_password else ""
        self.status.setText(f"Link copied. It {lasts}{locked}; revoke it any time in Shared links.")
        self._warn_if_local(self.link)
        self.password.clear()

    def _failed(self, message: str) -> None:
        self.status.setText(f"No link was made: {message}")
        self.create_button.setEnabled(True)


def target_of(window: MainWindow) -> ShareTarget | None:
    """The selection, else the folder shown (all images: the whole library)."""
    ids = window.selected_ids()
    if ids:
        return ShareTarget(image_ids=tuple(ids))
    place = window.place()
    if place.kind == "folder":
        include_sub = window.folder_actions.include_sub.isChecked()
        return ShareTarget(folder=place.folder, is_folder=True, recursive=include_sub)
    if place.kind == "all":
        return ShareTarget(folder=None, is_folder=True, recursive=True)
    return None


def share_from_window(window: MainWindow) -> ShareDialog | None:
    target = target_of(window)
    if target is None:
        window.notify("Select images, or a folder, to share.")
        return None
    if len(target.image_ids) > rules.MAX_SHARE_IMAGES:
        window.notify(
            f"A link can hold at most {rules.MAX_SHARE_IMAGES:,} selected images; "
            "share their folder instead."
        )
        return None
    dialog = ShareDialog(window.library, window.server, window.jobs, target, window)
    dialog.open()
    return dialog
