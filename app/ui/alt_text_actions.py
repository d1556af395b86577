"""The window's alt-text commands, kept out of ``main_window.py``: Copy as HTML / Copy as
Markdown, one alt text (or decorative) for a multi-selection, the library setting *Write
alt text into image files*, and the HTML a drag of thumbnails carries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

from imageshelf.app.library import settings, write_back

from .alt_text_copy import Snippet, add_to_mime, snippet, undescribed_notice
from .jobs import CallJob

if TYPE_CHECKING:
    from .main_window import MainWindow


def install(window: MainWindow) -> None:
    """Connects the pieces (called once the window's actions and panes exist)."""
    window.details.bulk_alt_text_requested.connect(
        lambda ids, value: apply_to_many(window, ids, value)
    )
    window.grid.extra_mime = lambda ids: drag_mime(window, ids)
    action = window.actions_by_name["write_alt_to_files"]
    action.setCheckable(True)
    # The setting is in the database: read on a worker, shown when known.
    job = CallJob(lambda: settings.write_alt_text_to_files(window.library))
    job.finished.connect(lambda on: _show_setting(window, bool(on)))
    window.jobs.start(job)
    # toggled, not triggered: the command's own run() is a no-op so both don't fire.
    action.toggled.connect(lambda on: set_write_to_files(window, on))
    selection = window.grid.selectionModel()
    selection.selectionChanged.connect(lambda *_: update_actions(window))
    update_actions(window)


def _show_setting(window: MainWindow, on: bool) -> None:
    action = window.actions_by_name["write_alt_to_files"]
    action.blockSignals(True)  # showing the setting is not changing it
    action.setChecked(on)
    action.blockSignals(False)


def update_actions(window: MainWindow) -> None:
    has = window.grid.selectionModel().hasSelection()
    for name in ("copy_html", "copy_markdown"):
        window.actions_by_name[name].setEnabled(has)


def copy_as(window: MainWindow, kind: str) -> None:
    """``kind``: ``html`` or ``markdown``. HTML goes on the clipboard as rich text too,
    so pasting into a rich editor shows the images; Markdown as plain text. The records
    are read on a worker (from the library: the grid's may be an event behind)."""
    window.selection.with_ids(lambda ids: _copy_ids(window, kind, ids))


def _copy_ids(window: MainWindow, kind: str, ids: list[str]) -> None:
    if not ids:
        return
    library, link = window.library, window.server.link
    job = CallJob(lambda: snippet([library.get(i) for i in ids], link))
    job.finished.connect(lambda snip: _copied(window, kind, len(ids), snip))
    job.failed.connect(window.notify)
    window.jobs.start(job)


def _copied(window: MainWindow, kind: str, n: int, snip: Snippet) -> None:
    mime = QMimeData()
    if kind == "html":
        add_to_mime(mime, snip)
    else:
        mime.setText(snip.markdown)
    QApplication.clipboard().setMimeData(mime)
    what = "HTML" if kind == "html" else "Markdown"
    count = "1 image" if n == 1 else f"{n} images"
    message = f"Copied {count} as {what}." + undescribed_notice(snip.undescribed)
    if not window.server.running:
        message += " The server is off: the links work once it runs (Server settings)."
    window.notify(message, 10000)


def drag_mime(window: MainWindow, ids: list[str]) -> Snippet | None:
    """What a drag of these thumbnails carries besides the ids: the HTML, from the grid's
    records (a drag needs its data now; the grid only drags rows it has loaded)."""
    model = window.model
    rows = (model.row_of(i) for i in ids)
    records = [r for r in (model.loaded_record(row) for row in rows if row is not None) if r]
    return snippet(records, window.server.link) if records else None


def apply_to_many(window: MainWindow, ids: list[str], value: str) -> None:
    """One alt text (``""``: decorative) for every id, saved on a worker."""
    if not ids:
        return

    def save() -> tuple[int, list[str]]:
        unwritable: list[str] = []
        for image_id in ids:
            _, outcome = window.library.update_with_outcome(image_id, alt_text=value)
            if outcome is not None and outcome.status in (
                write_back.NOT_WRITABLE,
                write_back.FAILED,
            ):
                unwritable.append(outcome.message)
        return len(ids), unwritable

    def done(result: tuple[int, list[str]]) -> None:
        count, unwritable = result
        what = "marked decorative" if value == "" else "given the alt text"
        message = f"{count} image{'s' if count != 1 else ''} {what}."
        if unwritable:
            message += f" {len(unwritable)} could not carry it in the file: {unwritable[0]}"
        window.notify(message)
        window.details.bulk.edit.clear()

    job = CallJob(save)
    job.finished.connect(done)
    job.failed.connect(lambda m: window.notify(f"Not every image was described: {m}"))
    window.jobs.start(job)


def set_write_to_files(window: MainWindow, on: bool) -> None:
    library = window.library
    job = CallJob(lambda: settings.put(library, settings.WRITE_ALT_TEXT_TO_FILES, on))
    job.finished.connect(lambda _r: _setting_saved(window, on))
    job.failed.connect(lambda message: _setting_refused(window, not on, message))
    window.jobs.start(job)


def _setting_refused(window: MainWindow, was: bool, message: str) -> None:
    _show_setting(window, was)
    window.notify(message)


def _setting_saved(window: MainWindow, on: bool) -> None:
    window.notify(
        "Alt text you save from now on is also written into JPEG, PNG and WebP files."
        if on
        else "Alt text is kept in the library only; files are no longer changed."
    )
