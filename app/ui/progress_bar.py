"""A progress bar's new value painted with the window's next paint, not at once.

``QProgressBar.setValue`` calls ``QWidget.repaint()``, which paints at once every part of
the window waiting for a paint, not the bar alone: during an adoption, that was the grid
scrolled a screen or showing new thumbnails, painted a second time in the same turn of
the event loop (a third of the window thread's painting, `py-spy` of an adoption while
scrolling). With updates off while the value changes, turning them back on asks for an
ordinary ``update()``: the bar is painted with everything else, once per turn."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar

# How often a long run's progress line changes at most: a few times a second is what a
# person reads, and each change repaints the bar and lays out the line around it.
PROGRESS_MS = 250


def set_progress(bar: QProgressBar, done: int, total: int) -> None:
    """The bar shows ``done`` of ``total`` (at least 1, so 0 of 0 is not "busy")."""
    if not bar.updatesEnabled():  # someone else holds updates off: theirs to turn on
        bar.setRange(0, max(total, 1))
        bar.setValue(done)
        return
    bar.setUpdatesEnabled(False)
    try:
        bar.setRange(0, max(total, 1))
        bar.setValue(done)
    finally:
        bar.setUpdatesEnabled(True)  # schedules the paint (``update()``)
