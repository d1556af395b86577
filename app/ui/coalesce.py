"""A slot that runs once per turn of the event loop, with the newest arguments.

Work in the core reports in bursts: a batch of 16 photos committed is 16 progress
signals queued at once, which Qt delivers back to back before any timer or paint. A
progress bar repaints itself at once on every ``setValue`` (a few ms each), so a burst
held the window's thread for tens of ms. Wrapped in ``Coalesced``, a burst becomes one
update, made after the queued signals are drained (a zero-interval timer fires then)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer


class Coalesced(QObject):
    def __init__(self, apply: Callable[..., None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._apply = apply
        self._args: tuple[Any, ...] | None = None
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.flush)

    def push(self, *args: Any) -> None:
        """Connect signals here (a method of this object: delivered on its thread)."""
        self._args = args
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Applies the newest arguments now, if any are waiting."""
        self._timer.stop()
        args, self._args = self._args, None
        if args is not None:
            self._apply(*args)
