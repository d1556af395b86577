"""``Transforms``: the library's service for transformed images (``/i/{id}.{ext}?w=…``).

A result comes from the cache when it is there; otherwise it is computed once however many
identical requests arrive at the same moment (the others wait for that one computation),
in one of a few slots — as many as the machine has cores — with a short queue in front.
The queue is as long as the slots can drain within ``rules.TRANSFORM_MAX_WAIT_S`` at the
rate results came out the last time they were all busy (within fixed bounds), so a
request that would wait past that bound is told at once. Past the queue, or after
waiting that long for a slot, the decode budget or an identical request's result, the
answer is ``Busy`` (503 with Retry-After). Every request held here holds one of the
server's threads, so all of them together — running, queued, following an identical
one — stay within a fixed number the server keeps threads for on top of the others.

The work itself runs in worker processes at a lower CPU priority (``transform_workers``):
on a busy machine, originals, thumbnails and the API go first while transforms use what
is left; the decoded pixels hold their share of the decode budget here meanwhile."""

from __future__ import annotations

import copy
import io
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

from . import rules, transform_workers
from .decode_budget import DECODE_BUDGET
from .derived import DerivedFiles
from .errors import Busy, LibraryError
from .files import storage_error
from .transform_cache import TransformCache
from .transform_spec import TransformSpec

log = logging.getLogger(__name__)


# Queue length, whatever the pace: at least 2 per slot (a short burst always queues), at
# most 32 in all (a transform of ~0.1 s, 8 s of waiting would allow 80). No cap per slot:
# the queue is what drains in the wait bound at the measured rate, so one slot (the
# workers kept on one of two CPUs, ``transform_workers.worker_cpus``) queues as many as
# it works through in time.
_QUEUE_MIN_PER_SLOT: Final = 2
_QUEUE_MAX: Final = 32
_FIRST_PACE_S: Final = 0.25  # assumed seconds per transform until some were timed
# The rate of results is the mean gap between the last results that handed their slot
# straight to a waiting request; it is trusted once this many gaps were seen.
_RATE_WINDOW: Final = 16
_RATE_TRUSTED: Final = 4
_BUSY_OTHERS: Final = "The server is busy making other images; try again shortly."


def default_slots() -> int:
    return transform_workers.workers()


def max_waiting_requests() -> int:
    """How many requests the default gate holds at most — running, queued, or waiting
    for an identical request's result: a server needs that many threads more than it
    does for everything else, so originals and the API never queue behind transforms."""
    return default_slots() + _QUEUE_MAX


class _Ticket:
    """A request waiting in the gate's line: ``wake`` is released when a slot is handed
    to it (``granted``, set under the gate's lock, decides a race with its timeout)."""

    __slots__ = ("granted", "wake")

    def __init__(self) -> None:
        self.granted = False
        self.wake = threading.Lock()
        self.wake.acquire()


class SlotGate:
    """At most ``slots`` transforms at once and a queue of waiting ones; the rest are told
    at once that the server is busy. ``queue`` fixes the queue's length; by default it is
    what the slots work through within ``rules.TRANSFORM_MAX_WAIT_S`` at the rate
    results came out while the gate was saturated (see ``interval``).

    Every request the gate holds — in a slot, queued, or following an identical request
    (``place``) — holds a server thread, so together they never exceed ``capacity``
    (by default ``max_waiting_requests()``): past it the answer is ``Busy`` at once."""

    def __init__(
        self,
        slots: int | None = None,
        queue: int | None = None,
        *,
        capacity: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slots = slots if slots is not None else default_slots()
        self.fixed_queue = queue
        self.capacity = capacity if capacity is not None else self.slots + _QUEUE_MAX
        self.pace = _FIRST_PACE_S  # moving average of one transform's seconds of work
        self.running = 0
        self._line: deque[_Ticket] = deque()  # the waiting requests, first come first
        self.following = 0
        self._clock = clock
        self._gaps: deque[float] = deque(maxlen=_RATE_WINDOW)
        self._saturated_at: float | None = None  # when the last slot was handed on
        self._changed = threading.Condition()

    @property
    def held(self) -> int:
        return self.running + self.waiting + self.following

    @property
    def interval(self) -> float:
        """Seconds between results while every slot is busy and requests wait: measured
        from the results themselves (the mean gap between the last ones that handed
        their slot straight to a waiting request), since the workers' own times say
        little about the rate on a machine that other work shares — they run as
        background work, and one slow result moved an average of them a lot. Until
        enough gaps were seen, the workers' own times spread over the slots."""
        if len(self._gaps) >= _RATE_TRUSTED:
            return sum(self._gaps) / len(self._gaps)
        return self.pace / self.slots

    @property
    def queue(self) -> int:
        if self.fixed_queue is not None:
            return self.fixed_queue
        drained = int(rules.TRANSFORM_MAX_WAIT_S / max(self.interval, 0.001))
        return min(_QUEUE_MAX, max(_QUEUE_MIN_PER_SLOT * self.slots, drained))

    def run(self, deadline: float, work: Callable[[], tuple[bytes, float]]) -> bytes:
        """``work()`` in a slot; ``Busy`` when none is free in time. ``work`` returns
        the result and the seconds of work it took (the first guess at the pace)."""
        with self.slot(deadline):
            result, seconds = work()
            self.note_work(seconds)
            return result

    def note_work(self, seconds: float) -> None:
        """One result took ``seconds`` of a worker's time (the first guess at the pace)."""
        with self._changed:
            self.pace = 0.8 * self.pace + 0.2 * seconds

    @property
    def waiting(self) -> int:
        return len(self._line)

    @contextmanager
    def slot(self, deadline: float) -> Iterator[None]:
        """A slot, in the order requests came: a freed slot is handed straight to the
        request that has waited longest, so the wait is what the queue ahead takes to
        drain, for every request alike (not whichever thread the system wakes first).

        Only that one request is woken (its own ``_Ticket``): waking every waiting
        thread on each change, for each to look whether it is first, woke up to 32
        threads several times per result — a herd that took the interpreter lock and
        the CPUs from the server's other requests (the quiet client of 7c waited behind
        it; docs/performance.md, transforms, session 7)."""
        ticket: _Ticket | None = None
        with self._changed:
            if self.held >= self.capacity:
                raise Busy(_BUSY_OTHERS)
            if self.running < self.slots and not self._line:
                self.running += 1
            elif self.waiting >= self.queue:
                raise Busy(_BUSY_OTHERS)
            else:
                ticket = _Ticket()
                self._line.append(ticket)
            self._changed.notify_all()  # observers only (``wait_until``): none waits here
        if ticket is not None:
            waited = False
            try:
                ticket.wake.acquire(timeout=max(0.0, deadline - time.monotonic()))
                waited = True
            finally:
                with self._changed:  # the hand-over and the timeout are decided here
                    if not ticket.granted:
                        self._line.remove(ticket)
                        self._changed.notify_all()
                    elif not waited:  # handed a slot while leaving with an error
                        self._free_slot()
            if not ticket.granted:
                raise Busy(_BUSY_OTHERS)
        try:
            yield
        finally:
            with self._changed:
                self._free_slot()

    def _free_slot(self) -> None:
        """A slot is done (under the lock): it passes as it is to the first in line
        (``running`` stays), or is free."""
        self._handed_on(bool(self._line))
        if self._line:
            head = self._line.popleft()
            head.granted = True
            head.wake.release()
        else:
            self.running -= 1
        self._changed.notify_all()

    def _handed_on(self, saturated: bool) -> None:
        """Notes a slot freed (under the lock): when a request waits for it, the time
        since the last slot handed on is one gap between results at full load."""
        if not saturated:
            self._saturated_at = None  # a slot stands idle: no rate to learn from
            return
        now = self._clock()
        if self._saturated_at is not None:
            self._gaps.append(now - self._saturated_at)
        self._saturated_at = now

    @contextmanager
    def place(self) -> Iterator[None]:
        """A place for a request that waits for an identical request's result: it needs
        no slot, but it holds a server thread, so it counts against ``capacity``."""
        with self._changed:
            if self.held >= self.capacity:
                raise Busy("The server is busy making this image; try again shortly.")
            self.following += 1
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self.following -= 1
                self._changed.notify_all()

    def wait_until(self, predicate: Callable[[int, int], bool], timeout: float) -> bool:
        """Waits until ``predicate(running, waiting)`` holds (for observers and tests)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: predicate(self.running, self.waiting), timeout=timeout
            )

    def wait_until_held(self, count: int, timeout: float) -> bool:
        """Waits until the gate holds ``count`` requests in all (for observers and tests)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.held == count, timeout=timeout)


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

    def set_limits(
        self, *, slots: int, queue: int | None = None, capacity: int | None = None
    ) -> None:
        """Replaces the concurrency limits (transforms already running keep theirs)."""
        self.gate = SlotGate(slots, queue, capacity=capacity)

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
        started = time.monotonic()
        deadline = started + rules.TRANSFORM_MAX_WAIT_S
        with self._guard:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            with self.gate.place(), self._following():
                return TransformResult(self._follow(flight, key, deadline), ctype, etag)
        try:
            # A flight that finished between our look and our registering stored it.
            cached = self.open_cached(key)
            if cached is not None:
                self._land(flight, key)
                return TransformResult(cached, ctype, etag)
            path_now = source()
            from .transform_render import decoded_pixels  # Pillow: not at the window's launch

            pixels = decoded_pixels(path_now, spec)  # from the header: no decode yet
            slot = ExitStack()  # the slot, handed to the maker, which frees it when done
            slot.enter_context(self.gate.slot(deadline))
        except BaseException as exc:
            self._land(flight, key, exc)
            raise
        # The work goes on in a thread of its own, so that a request whose answer is due
        # (``rules.TRANSFORM_ANSWER_S``) can be told busy while its result goes on into
        # the cache, where the retry finds it. The slot stays counted meanwhile.
        threading.Thread(
            target=self._make,
            args=(slot, flight, key, sha256, path_now, pixels, spec, deadline),
            name="transform-maker",
            daemon=True,
        ).start()
        answer_by = started + rules.TRANSFORM_ANSWER_S
        return TransformResult(self._follow(flight, key, answer_by), ctype, etag)

    def _make(
        self,
        slot: ExitStack,
        flight: _Flight,
        key: str,
        sha256: str,
        path: Path,
        pixels: int,
        spec: TransformSpec,
        deadline: float,
    ) -> None:
        """Makes the result in the slot it is handed, keeps it, and lands the flight."""
        error: BaseException | None = None
        try:
            with slot:
                remaining = max(0.0, deadline - time.monotonic())
                with DECODE_BUDGET.hold(pixels, timeout=remaining):
                    data, seconds = transform_workers.run(path, spec)
                self.gate.note_work(seconds)
            with self._guard:
                self.computations += 1
                self._guard.notify_all()
            flight.data = data
            try:
                self.cache.put(sha256, spec.name, data)
            except OSError as exc:  # full or read-only disk: served, just not kept
                log.warning("%s", storage_error(exc, "keep a transformed image"))
        except BaseException as exc:
            if not isinstance(exc, LibraryError):
                log.exception("Transforming %s failed", key)
            error = exc
        finally:
            self._land(flight, key, error)

    def _land(self, flight: _Flight, key: str, error: BaseException | None = None) -> None:
        """The flight is over: identical requests from now on start their own."""
        flight.error = error
        with self._guard:
            self._flights.pop(key, None)
        flight.done.set()

    def wait_until(self, predicate: Callable[[int, int], bool], timeout: float) -> bool:
        """Waits until ``predicate(computations, followers)`` holds (for observers and
        tests: how many requests share a computation)."""
        with self._guard:
            return self._guard.wait_for(
                lambda: predicate(self.computations, self.followers), timeout=timeout
            )

    @contextmanager
    def _following(self) -> Iterator[None]:
        with self._guard:
            self.followers += 1
            self._guard.notify_all()
        try:
            yield
        finally:
            with self._guard:
                self.followers -= 1

    def _follow(self, flight: _Flight, key: str, deadline: float) -> BinaryIO:
        """The flight's result once it lands, ``Busy`` when that is not by ``deadline``."""
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

    def opener_at_once(self, key: str) -> Callable[[], BinaryIO] | None:
        """For the server's socket loop, to keep with the request's resolved parameters:
        how to open the result under ``key`` with a local file's ``open`` and nothing that
        may wait, ``None`` where the store cannot (the ordinary way then answers)."""
        return self.cache.opener_at_once(key)

    def open_cached_at_once(self, key: str, opener: Callable[[], BinaryIO]) -> BinaryIO | None:
        """``open_cached`` for the server's socket loop, with ``opener_at_once(key)``:
        never waiting for the cache's index; ``None`` when the result is not kept."""
        try:
            f = opener()
        except OSError:
            return None
        self.cache.touch(key, wait=False)
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
