"""Readable notices instead of tracebacks: message boxes for what needs a decision or an
acknowledgement, and the exception hook that turns a bug into a notice plus a log entry."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

from imageshelf.app.library import LibraryError

from ..logs import see_the_log

log = logging.getLogger("imageshelf.ui")


def warn(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def confirm(parent: QWidget | None, title: str, text: str, *, action: str = "OK") -> bool:
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


def readable(exc: BaseException) -> str:
    """What a person is told about ``exc``."""
    if isinstance(exc, LibraryError):
        return exc.message
    if isinstance(exc, OSError):
        return f"The disk or the system refused: {exc.strerror or exc}."
    return f"Something went wrong ({type(exc).__name__}: {exc}). {see_the_log()}"


def install_excepthook(show: Callable[[str], None]) -> None:
    """Every uncaught exception (in a slot, an event handler...) is logged with its
    traceback and shown through ``show`` as one readable sentence; the app goes on."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.error("Uncaught error:\n%s", "".join(traceback.format_exception(kind, exc, tb)))
        try:
            show(readable(exc))
        except Exception:  # never let the hook itself crash the app
            log.exception("showing the error notice failed")

    sys.excepthook = hook
