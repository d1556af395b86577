"""The process-wide budget of pixels being decoded at once.

One 100-megapixel image is allowed; eight at once are not eight times allowed. Every
decode of image data (uploads, imports, adoption, thumbnail builds, transforms) holds a
share of this budget for as long as its pixels are in memory, so parallel large images
queue instead of multiplying memory. A decode larger than the whole budget runs alone.

A unit of the budget is one RGBA pixel in memory (4 bytes): ``imaging`` holds what a
decode really allocates (a WebP holds its decoder's canvas and Pillow's copy, a JPEG
decoded at reduced scale only the reduced pixels).

Who waits how long is the caller's, not the decoder's: the server wraps each request in
``request_scope(wait=..., cancelled=...)`` so an upload queues for a bounded time (then
``Busy``, 503) and stops queueing or decoding once its client has gone (``ClientGone``);
the GUI, the importer and adoption run outside any scope and wait their turn.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum
from typing import Final

from .errors import Busy, ClientGone


def _return_large_frees_to_the_system() -> None:
    """glibc raises its mmap threshold each time a large block is freed (up to 32 MB), so
    after the first large image Pillow's 16 MB blocks come from the heap of whichever
    thread's arena decoded, and freed stay counted in RSS: eight 100-megapixel uploads
    peaked 0.3 GB over what the decode budget allows. A fixed 1 MB threshold keeps large
    blocks mapped and unmapped as they are freed (Linux with glibc; elsewhere nothing).
    Set here, on import, not in ``imaging``: the window's process imports Pillow only
    when it first decodes, and the threshold must hold before its first large block."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)
    except (OSError, AttributeError):
        pass


_M_MMAP_THRESHOLD: Final = -3
_return_large_frees_to_the_system()

# 200 M units of RGBA is about 800 MB in flight: two maximal images at once, or many
# small ones.
DEFAULT_MEGAPIXELS: Final = 200
# How often a waiting or decoding request looks whether its client is still there.
_CANCEL_POLL_SECONDS: Final = 0.2


class _Default(Enum):
    """``hold``'s timeout not given: the request scope's wait (``None`` means no limit)."""

    TIMEOUT = "the request scope's wait"


_NO_TIMEOUT: Final = _Default.TIMEOUT
_wait_limit: ContextVar[float | None] = ContextVar("decode_wait_limit", default=None)
_cancelled: ContextVar[Callable[[], bool] | None] = ContextVar("decode_cancelled", default=None)


class request_scope:  # lower case: used as a function: ``with request_scope(...):``
    """Decodes in the body wait at most ``wait`` seconds for the budget and stop when
    ``cancelled()`` turns true (the client disconnected). A class rather than a
    generator context manager: the server enters one for every request, and this is a
    third of the cost of ``@contextmanager``'s."""

    __slots__ = ("_cancel_token", "_cancelled", "_wait", "_wait_token")

    def __init__(self, *, wait: float | None, cancelled: Callable[[], bool] | None = None):
        self._wait = wait
        self._cancelled = cancelled

    def __enter__(self) -> None:
        self._wait_token = _wait_limit.set(self._wait)
        self._cancel_token = _cancelled.set(self._cancelled)

    def __exit__(self, *exc: object) -> None:
        _cancelled.reset(self._cancel_token)
        _wait_limit.reset(self._wait_token)


def check_cancelled() -> None:
    """Raises ``ClientGone`` when the work's client has gone; decoders call it between
    frames."""
    cancelled = _cancelled.get()
    if cancelled is not None and cancelled():
        raise ClientGone("The client disconnected; the work it asked for was dropped.")


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
    def hold(
        self, pixels: int, *, timeout: float | _Default | None = _NO_TIMEOUT
    ) -> Iterator[None]:
        """Hold ``pixels`` of the budget for the body; raise ``Busy`` after ``timeout`` s
        (default: the request scope's wait, else no limit) and ``ClientGone`` as soon as
        the scope's client has gone."""
        wait = _wait_limit.get() if timeout is _Default.TIMEOUT else timeout
        want = max(0, min(int(pixels), self.limit))
        deadline = None if wait is None else time.monotonic() + wait
        with self._changed:
            while not (self._in_flight == 0 or self._in_flight + want <= self.limit):
                check_cancelled()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise Busy("Too many large images are being processed; try again shortly.")
                slice_ = _CANCEL_POLL_SECONDS if _cancelled.get() is not None else None
                self._changed.wait(timeout=min(x for x in (left, slice_, 3600.0) if x is not None))
            check_cancelled()
            self._in_flight += want
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= want
                self._changed.notify_all()


# The one budget of this process: shared by every library it opens and every face.
DECODE_BUDGET: Final = DecodeBudget()
