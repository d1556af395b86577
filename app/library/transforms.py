"""``Transforms``: the library's service for transformed images (``/i/{id}.{ext}?w=…``).

A result comes from the cache when it is there; otherwise it is computed once however many
identical requests arrive at the same moment (the others wait for that one computation),
in one of a few slots — as many as the machine has cores — with a short queue in front.
The queue is as long as the slots can drain within ``rules.TRANSFORM_MAX_WAIT_S`` at the
recent pace of transforms (within fixed bounds), so a request that would wait past that
bound is told at once. Past the queue, or after waiting that long for a slot, the decode
budget or an identical request's result, the answer is ``Busy`` (503 with Retry-After).

The work itself runs in worker processes at a lower CPU priority (``transform_workers``):
on a busy machine, originals, thumbnails and the API go first while transforms use what
is left; the decoded pixels hold their share of the decode budget here meanwhile."""

from __future__ import annotations

import copy
import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

from . import rules, transform_workers
from .decode_budget import DECODE_BUDGET
from .derived import DerivedFiles
from .errors import Busy, LibraryError
from .files import storage_error
from .transform_cache import TransformCache
from .transform_render import decoded_pixels
from .transform_spec import TransformSpec

log = logging.getLogger(__name__)


# Queue length per slot, whatever the pace: at least 2 (a short burst always queues), at
# most 16 (a transform of ~0.1 s, 8 s of waiting would allow 80); and 32 in all, so the
# server threads waiting requests hold stay bounded (see ``max_waiting_requests``).
_QUEUE_PER_SLOT: Final = (2, 16)
_QUEUE_MAX: Final = 32
_FIRST_PACE_S: Final = 0.25  # assumed seconds per transform until some were timed


def default_slots() -> int:
    return transform_workers.workers()


def max_waiting_requests() -> int:
    """How many requests the default gate holds at most, running or queued: a server
    needs that many threads more than it does for everything else."""
    return default_slots() + _QUEUE_MAX


class SlotGate:
    """At most ``slots`` transforms at once and a queue of waiting ones; the rest are told
    at once that the server is busy. ``queue`` fixes the queue's length; by default it
    follows the pace of recent transforms (see the module's docstring)."""

    def __init__(self, slots: int | None = None, queue: int | None = None) -> None:
        self.slots = slots if slots is not None else default_slots()
        self.fixed_queue = queue
        self.pace = _FIRST_PACE_S  # moving average of seconds per transform
        self.running = 0
        self.waiting = 0
        self._changed = threading.Condition()

    @property
    def queue(self) -> int:
        if self.fixed_queue is not None:
            return self.fixed_queue
        low, high = _QUEUE_PER_SLOT
        drained = int(rules.TRANSFORM_MAX_WAIT_S / max(self.pace, 0.001))
        return min(_QUEUE_MAX, self.slots * max(low, min(high, drained)))

    def run(self, deadline: float, work: Callable[[], tuple[bytes, float]]) -> bytes:
        """``work()`` in a slot; ``Busy`` when none is free in time. ``work`` returns
        the result and the seconds of work it took (the pace the queue follows)."""
        with self.slot(deadline):
            result, seconds = work()
            with self._changed:
                self.pace = 0.8 * self.pace + 0.2 * seconds
            return result

    @contextmanager
    def slot(self, deadline: float) -> Iterator[None]:
        with self._changed:
            if self.running >= self.slots:
                if self.waiting >= self.queue:
                    raise Busy("The server is busy making other images; try again shortly.")
                self.waiting += 1
                self._changed.notify_all()
                try:
                    free = self._changed.wait_for(
                        lambda: self.running < self.slots,
                        timeout=max(0.0, deadline - time.monotonic()),
                    )
                finally:
                    self.waiting -= 1
                if not free:
                    raise Busy("The server is busy making other images; try again shortly.")
            self.running += 1
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self.running -= 1
                self._changed.notify_all()

    def wait_until(self, predicate: Callable[[int, int], bool], timeout: float) -> bool:
        """Waits until ``predicate(running, waiting)`` holds (for observers and tests)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: predicate(self.running, self.waiting), timeout=timeout
            )


@dataclass
class _Flight:
    """One computation that identical requests share."""

    done: threading.Event = field(default_factory=threading.Event)
    data: bytes | None = None
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class TransformResult:
    file: BinaryIO  # the caller closes it
    content_type: str
    etag: str  # strong, unquoted


class Transforms:
    def __init__(self, store: DerivedFiles, cache_limit: Callable[[], int]) -> None:
        self.cache = TransformCache(store, cache_limit)
        self.gate = SlotGate()
        self.computations = 0  # results computed (not served from the cache) since start
        self.followers = 0  # requests now waiting for an identical request's computation
        self._guard = threading.Condition()
        self._flights: dict[str, _Flight] = {}

    def set_limits(self, *, slots: int, queue: int | None = None) -> None:
        """Replaces the concurrency limits (transforms already running keep theirs)."""
        self.gate = SlotGate(slots, queue)

    def result(
        self, sha256: str, source: Callable[[], Path], spec: TransformSpec
    ) -> TransformResult:
        """The result of ``spec`` for the original with hash ``sha256`` whose file
        ``source()`` names (asked only when the result has to be made)."""
        etag = spec.etag(sha256)
        ctype = spec.output.content_type
        key = self.cache.key_for(sha256, spec.name)
        cached = self.open_cached(key)
        if cached is not None:
            return TransformResult(cached, ctype, etag)
        deadline = time.monotonic() + rules.TRANSFORM_MAX_WAIT_S
        with self._guard:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            with self._guard:
                self.followers += 1
                self._guard.notify_all()
            try:
                return TransformResult(self._follow(flight, key, deadline), ctype, etag)
            finally:
                with self._guard:
                    self.followers -= 1
        try:
            # A flight that finished between our look and our registering stored it.
            cached = self.open_cached(key)
            if cached is not None:
                return TransformResult(cached, ctype, etag)
            path_now = source()
            pixels = decoded_pixels(path_now, spec)  # from the header: no decode yet

            def work() -> tuple[bytes, float]:
                remaining = max(0.0, deadline - time.monotonic())
                with DECODE_BUDGET.hold(pixels, timeout=remaining):
                    return transform_workers.run(path_now, spec)

            data = self.gate.run(deadline, work)
            with self._guard:
                self.computations += 1
                self._guard.notify_all()
            flight.data = data
            try:
                self.cache.put(sha256, spec.name, data)
            except OSError as exc:  # full or read-only disk: served, just not kept
                log.warning("%s", storage_error(exc, "keep a transformed image"))
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._guard:
                self._flights.pop(key, None)
            flight.done.set()
        return TransformResult(self._open_or_memory(key, data), ctype, etag)

    def wait_until(self, predicate: Callable[[int, int], bool], timeout: float) -> bool:
        """Waits until ``predicate(computations, followers)`` holds (for observers and
        tests: how many requests share a computation)."""
        with self._guard:
            return self._guard.wait_for(
                lambda: predicate(self.computations, self.followers), timeout=timeout
            )

    def _follow(self, flight: _Flight, key: str, deadline: float) -> BinaryIO:
        if not flight.done.wait(timeout=max(0.0, deadline - time.monotonic())):
            raise Busy("The server is busy making this image; try again shortly.")
        if flight.error is not None:
            error = flight.error
            if isinstance(error, LibraryError):
                raise copy.copy(error)  # each request raises its own instance
            raise LibraryError("The image could not be transformed.")
        assert flight.data is not None
        return self._open_or_memory(key, flight.data)

    def cache_file(self, sha256: str, spec: TransformSpec) -> str:
        """The key the result of ``spec`` for this original is kept under (may not be)."""
        return self.cache.key_for(sha256, spec.name)

    def open_cached(self, key: str) -> BinaryIO | None:
        """The kept result under ``key`` (from ``cache_file``), marked as used, or ``None``."""
        try:
            f = self.cache.store.open(key)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise storage_error(exc, "read the transformed image") from exc
        self.cache.touch(key)
        return f

    def _open_or_memory(self, key: str, data: bytes) -> BinaryIO:
        """The stored result, or the bytes themselves where it was evicted at once
        (a cache limit smaller than this one result) or could not be written."""
        try:
            return self.cache.store.open(key)
        except OSError:
            return io.BytesIO(data)

    def discard(self, sha256: str) -> None:
        """Removes the results of an original that left the library."""
        self.cache.discard(sha256)
