"""A progress bar's new value painted with the window's next paint, not at once.

``QProgressBar.setValue`` calls ``QWidget.repaint()``, which paints at once every part of
the window waiting for a paint, not the bar alone: during an adoption, that was the grid
scrolled a screen or showing new thumbnails, painted a second time in the same turn of
the event loop (a third of the window thread's painting, `py-spy` of an adoption while
scrolling). With updates off while the value changes, turning them back on asks for an
ordinary ``update()``: the bar is painted with everything else, once per turn."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar, QStyleOptionProgressBar

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


class QuietProgressBar(QProgressBar):
    """A progress bar without the style's animation. Fusion (Qt's style here) moves stripes
    across a bar that is busy or still at its minimum, repainting it 60 times a second:
    the import dialog's bar did that from the drop until the first photo was saved (a
    tenth of the window thread's samples in a profile of a drop at load 10, with the
    workers starting). The count and the time left beside it say that work goes on."""

    def initStyleOption(self, option: QStyleOptionProgressBar) -> None:
        super().initStyleOption(option)
        option.styleObject = None  # type: ignore[assignment]  # no object: no animation
