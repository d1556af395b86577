"""Pauses of Python's cycle collector, counted so that overlapping ones nest, and the
launch's long-lived objects handed to the collector's permanent generation.

Why: a full collection walks every object the collector tracks, and on this kind of
machine walking the ≈ 93,000 a launched window holds (its modules, classes, widgets'
wrappers) costs ≈ 60 ms of CPU with every thread stopped, the GUI's too. Importing
PySide6, SQLAlchemy and the window triggered two of them before the first paint (≈ 75 ms
of CPU, 150–200 ms under load, benchmarks/gui_probe.py); later ones froze the window
while it scrolled. Nothing made at start-up is garbage in a cycle worth finding, so a
launch pauses the collector (``pause_for_start``) until its first screen is shown, then
freezes what is alive (``settle_start``, ``gc.freeze``): later collections skip it.
Reference counting frees everything throughout; only cycles wait.

Qt-free: the command line calls ``pause_for_start`` before it imports Qt."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_pauses = 0
_was_enabled = True
_start_paused = False
_frozen = False


def pause() -> None:
    """One more pause; the collector stops at the first."""
    global _pauses, _was_enabled
    with _lock:
        _pauses += 1
        if _pauses == 1:
            _was_enabled = gc.isenabled()
            gc.disable()


def resume() -> None:
    """One pause fewer; the collector runs again (if it ran before) after the last."""
    global _pauses
    with _lock:
        _pauses -= 1
        if _pauses == 0 and _was_enabled:
            gc.enable()


@contextlib.contextmanager
def paused() -> Iterator[None]:
    pause()
    try:
        yield
    finally:
        resume()


def pause_for_start() -> None:
    """Called by a launch before its imports; ``settle_start`` ends it."""
    global _start_paused
    with _lock:
        if _start_paused or _frozen:
            return
        _start_paused = True
    pause()


def settle_start() -> None:
    """Called once the first screen is shown: what is alive now lives as long as the
    process, so collections stop walking it; then the start's pause ends. Does nothing
    in a process that did not pause for its start (the tests' windows)."""
    global _start_paused, _frozen
    with _lock:
        if not _start_paused:
            return
        _start_paused, _frozen = False, True
        gc.freeze()
    resume()


def thaw() -> None:
    """Another library replaces the window: the old one's objects (widgets, models,
    their signal cycles) become garbage, so the frozen objects go back to the collector
    and are not frozen again."""
    with _lock:
        gc.unfreeze()
