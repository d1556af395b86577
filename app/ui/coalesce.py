"""A slot that runs once per turn of the event loop, with the newest arguments, and at
most once per ``min_interval_ms`` when one is given.

Work in the core reports in bursts: a batch of 16 photos committed is 16 progress
signals queued at once, which Qt delivers back to back before any timer or paint. A
progress bar repaints itself at once on every ``setValue`` (a few ms each), so a burst
held the window's thread for tens of ms. Wrapped in ``Coalesced``, a burst becomes one
update, made after the queued signals are drained (a zero-interval timer fires then).
A progress line read by a person needs no more than a few updates a second: with an
interval, the turns in between do nothing for it at all."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer


class Coalesced(QObject):
    def __init__(
        self,
        apply: Callable[..., object],  # what it returns is dropped
        parent: QObject | None = None,
        *,
        min_interval_ms: int = 0,
    ) -> None:
        super().__init__(parent)
        self._apply = apply
        self._args: tuple[Any, ...] | None = None
        self._interval = min_interval_ms / 1000
        self._last: float | None = None  # when the last update was applied (monotonic)
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.flush)

    def push(self, *args: Any) -> None:
        """Connect signals here (a method of this object: delivered on its thread)."""
        self._args = args
        if not self._timer.isActive():
            wait = 0.0
            if self._last is not None:
                wait = self._last + self._interval - time.monotonic()
            self._timer.start(max(0, round(wait * 1000)))

    def flush(self) -> None:
        """Applies the newest arguments now, if any are waiting."""
        self._timer.stop()
        args, self._args = self._args, None
        if args is not None:
            self._last = time.monotonic()
            self._apply(*args)
