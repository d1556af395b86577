"""Reads for the grid model off the GUI thread: a short search scans (50-100 ms at
100,000 images), and even a 2 ms page read is better spent while the window paints.

One worker thread: reads queue behind each other, so a scan never competes with the page
reads of the view it is replacing. Results come back as a queued signal on the GUI thread,
tagged with the caller's token so that stale answers can be recognised and dropped."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    done = Signal(object, object)  # token, the result or the exception raised


class _Read(QRunnable):
    def __init__(self, call: Callable[[], Any], token: object, signals: _Signals) -> None:
        super().__init__()
        self.call, self.token, self.signals = call, token, signals

    def run(self) -> None:
        try:
            result: Any = self.call()
        except Exception as exc:  # reported to the GUI thread, which decides what to show
            result = exc
        # The model may have gone away while we read: then nobody is waiting for it.
        with contextlib.suppress(RuntimeError):
            self.signals.done.emit(self.token, result)


class PageReader(QObject):
    """``read(call, token)`` runs ``call()`` on the worker; ``done(token, result)`` follows
    on the GUI thread. ``result`` is an exception when the call raised one."""

    done = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        # Not a child: a read still running when the model is deleted must find its
        # signal object alive (it then reaches nobody, which is fine).
        self._signals = _Signals()
        self._signals.done.connect(self.done)

    def read(self, call: Callable[[], Any], token: object) -> None:
        self.pool.start(_Read(call, token, self._signals))

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)
