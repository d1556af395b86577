"""Work that can wait until the window's first screen of thumbnails is shown.

A launch starts the HTTP server (importing Flask and waitress, ≈ 0.2 s of the GUI thread),
the reconciliation of the library folder (a worker busy in Python, sharing the GIL with
the first page's thumbnails) and the decode workers' fork server. Started at the event
loop's first turn, they all ran while the grid's first thumbnails were still being loaded
and delayed them: on a library of 100,000 images the first screen came 0.5–1.5 s later
(benchmarks/gui_probe.py, target 6). A person looks at the grid first; the server and the
reconcile are not missed for the half second the thumbnails take."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer

if TYPE_CHECKING:
    from .main_window import MainWindow

# However the first screen goes (a window never exposed, thumbnails slow to load), what
# waits starts by then.
FIRST_SCREEN_WAIT_MS = 2000


class AfterFirstScreen(QObject):
    """Calls ``then`` once: after the grid's paint that shows the thumbnails its first
    paint asked for (after that first paint itself when it asked for none), or
    ``wait_ms`` after it is made, whichever comes first. Made just after
    ``window.show()``.

    Not when the last of those thumbnails arrives: the grid paints it in a later turn of
    the event loop, and ``then`` (the server's start, ≈ 0.2 s of this thread) ran first,
    so the first screen waited for it after all (docs/performance.md, 6, session 12)."""

    def __init__(
        self, window: MainWindow, then: Callable[[], None], wait_ms: int = FIRST_SCREEN_WAIT_MS
    ) -> None:
        super().__init__(window)
        self._then: Callable[[], None] | None = then
        self._loader = window.loader
        self._viewport = window.grid.viewport()
        self._painted = False  # the grid's first paint (which asks for its thumbnails)
        self._loaded = False  # what it asked for has come: the next paint shows it
        self._viewport.installEventFilter(self)
        self._loader.ready.connect(self._on_ready)
        QTimer.singleShot(wait_ms, self, self._fire)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            if not self._painted:
                self._painted = True
                # After this paint has asked the loader for the thumbnails it lacked.
                QTimer.singleShot(0, self, self._after_first_paint)
            elif self._loaded:
                QTimer.singleShot(0, self, self._fire)  # once this paint has shown them
        return False

    def _after_first_paint(self) -> None:
        # It asked for none (or they came before it): it showed them. (Come since it: the
        # paint they asked for shows them, and fires.)
        if not self._loader.loading() and not self._loaded:
            self._fire()

    def _on_ready(self, _sha256: str) -> None:
        if self._painted and not self._loader.loading() and not self._loaded:
            self._loaded = True
            self._viewport.update()  # the grid repaints its cells; this makes sure of it

    def _fire(self) -> None:
        then, self._then = self._then, None
        if then is None:
            return
        self._viewport.removeEventFilter(self)
        self._loader.ready.disconnect(self._on_ready)
        then()
