"""The process-wide budget of pixels being decoded at once.

One 100-megapixel image is allowed; eight at once are not eight times allowed. Every
decode of image data (uploads, imports, adoption, thumbnail builds, transforms) holds a
share of this budget for as long as its pixels are in memory, so parallel large images
queue instead of multiplying memory. A decode larger than the whole budget runs alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from .errors import Busy

# 200 MP of RGBA is about 800 MB in flight: two maximal images at once, or many small ones.
DEFAULT_MEGAPIXELS: Final = 200


class DecodeBudget:
    """A counting gate over pixels; ``hold`` waits until the pixels fit."""

    def __init__(self, megapixels: float = DEFAULT_MEGAPIXELS) -> None:
        self.limit = int(megapixels * 1_000_000)
        self._in_flight = 0
        self._changed = threading.Condition()

    @property
    def in_flight(self) -> int:
        with self._changed:
            return self._in_flight

    @contextmanager
    def hold(self, pixels: int, *, timeout: float | None = None) -> Iterator[None]:
        """Hold ``pixels`` of the budget for the body; raise ``Busy`` after ``timeout`` s."""
        want = max(0, min(int(pixels), self.limit))
        with self._changed:
            fits = self._changed.wait_for(
                lambda: self._in_flight == 0 or self._in_flight + want <= self.limit,
                timeout=timeout,
            )
            if not fits:
                raise Busy("Too many large images are being processed; try again shortly.")
            self._in_flight += want
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= want
                self._changed.notify_all()


# The one budget of this process: shared by every library it opens and every face.
DECODE_BUDGET: Final = DecodeBudget()
