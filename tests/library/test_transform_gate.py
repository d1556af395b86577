"""The transform gate: its queue is what the slots work through in the wait bound at
the rate results came out while it was saturated (at least 2 per slot, at most 32 in all),
and everything it holds — running, queued, following an identical request — stays
within its capacity, past which the answer is busy at once.

The rate is driven by a clock the test owns: results come out when the test lets the
request in the slot finish, and the test waits for each hand-over on the gate's own
condition (no sleep, no timing)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from imageshelf.app.library import Busy, rules
from imageshelf.app.library.transforms import SlotGate, max_waiting_requests

WAIT = 20.0
_DRAIN_S = rules.TRANSFORM_MAX_WAIT_S  # the queue is what the slots drain in this time


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def _requests(gate: SlotGate, count: int) -> Iterator[threading.Semaphore]:
    """``count`` requests at the gate (one slot), each finishing its work when the test
    releases the semaphore once; all are done when the block ends."""
    finish = threading.Semaphore(0)

    def request() -> None:
        with gate.slot(time.monotonic() + WAIT):
            assert finish.acquire(timeout=WAIT)

    threads = [threading.Thread(target=request) for _ in range(count)]
    for t in threads:
        t.start()
    try:
        assert gate.wait_until(lambda r, w: (r, w) == (1, count - 1), WAIT)
        yield finish
    finally:
        for _ in threads:
            finish.release()
        for t in threads:
            t.join(WAIT)


def _hand_over(gate: SlotGate, clock: _Clock, finish: threading.Semaphore, gap: float) -> None:
    """The request in the slot finishes ``gap`` seconds after the previous result, and
    the next waiting one takes the slot."""
    waiting = gate.waiting
    clock.now += gap
    finish.release()
    assert gate.wait_until(lambda r, w: (r, w) == (1, waiting - 1), WAIT)


def test_queue_follows_the_rate_of_results_at_full_load() -> None:
    clock = _Clock()
    gate = SlotGate(slots=1, clock=clock)
    assert gate.queue == 32  # the first guess (0.25 s a result) allows 32, the most
    with _requests(gate, 8) as finish:
        for _ in range(7):  # until the last request has the slot and none waits
            _hand_over(gate, clock, finish, 1.0)
        assert gate.interval == pytest.approx(1.0)
        assert gate.queue == int(_DRAIN_S / 1.0)
    # An idle spell is no gap between results: the next saturated run starts afresh
    # (its first result has no gap), and the mean is over the newest gaps of both runs.
    clock.now += 1000.0
    with _requests(gate, 7) as finish:
        for _ in range(6):
            _hand_over(gate, clock, finish, 0.5)
        assert gate.interval == pytest.approx((6 * 1.0 + 5 * 0.5) / 11)
        assert gate.queue == int(_DRAIN_S / gate.interval) == 10


def test_until_the_rate_is_known_the_workers_own_times_set_the_queue() -> None:
    gate = SlotGate(slots=2)
    assert gate.queue == 32  # the first guess (0.25 s a result, two slots) allows 64
    for _ in range(40):  # results now take 1 s of work each, two at a time
        gate.run(time.monotonic() + 5, lambda: (b"", 1.0))
    assert gate.interval == pytest.approx(0.5, abs=0.01)
    assert gate.queue == int(_DRAIN_S / 0.5)
    for _ in range(40):  # very slow: the queue keeps its floor of 2 per slot
        gate.run(time.monotonic() + 5, lambda: (b"", 30.0))
    assert gate.queue == 4
    for _ in range(40):  # very fast: at most 32 in all
        gate.run(time.monotonic() + 5, lambda: (b"", 0.01))
    assert gate.queue == 32
    assert SlotGate(slots=1, queue=3).queue == 3  # a fixed queue stays fixed
    assert SlotGate(slots=8).queue == 32


def test_everything_held_stays_within_the_capacity() -> None:
    gate = SlotGate(slots=1, queue=4, capacity=3)
    with gate.slot(time.monotonic() + WAIT), gate.place(), gate.place():
        assert gate.held == 3
        with pytest.raises(Busy), gate.place():
            pass  # a follower past the capacity is told at once
        with pytest.raises(Busy), gate.slot(time.monotonic() + WAIT):
            pass  # so is a request that would queue, although the queue has room
        assert (gate.running, gate.waiting, gate.following) == (1, 0, 2)
    assert gate.held == 0
    with gate.place():  # room again
        assert gate.following == 1
    # The default: the slots and the longest queue, which the server keeps threads for.
    default = SlotGate()
    assert default.capacity == max_waiting_requests() == default.slots + 32


def test_a_freed_slot_goes_to_the_request_that_waited_longest() -> None:
    gate = SlotGate(slots=1, queue=8)
    finish = threading.Semaphore(0)
    order: list[int] = []
    entered = threading.Condition()  # a request handed the slot has begun its work

    def request(n: int) -> None:
        with gate.slot(time.monotonic() + WAIT):
            with entered:
                order.append(n)
                entered.notify_all()
            assert finish.acquire(timeout=WAIT)

    threads = []
    for n in range(6):  # one in the slot, then five in line, in this order
        threads.append(threading.Thread(target=request, args=(n,)))
        threads[-1].start()
        assert gate.wait_until(lambda r, w, n=n: (r, w) == (1, n), WAIT)
    for n in range(1, 6):
        finish.release()
        assert gate.wait_until(lambda r, w, n=n: (r, w) == (1, 5 - n), WAIT)
        with entered:
            assert entered.wait_for(lambda n=n: len(order) == n + 1, WAIT)
        assert order == list(range(n + 1))
    finish.release()
    for t in threads:
        t.join(WAIT)
    assert order == [0, 1, 2, 3, 4, 5] and gate.held == 0


def test_a_request_not_handed_a_slot_by_its_deadline_leaves_the_line() -> None:
    gate = SlotGate(slots=1, queue=4)
    with gate.slot(time.monotonic() + WAIT):
        with pytest.raises(Busy), gate.slot(time.monotonic() + 0.05):
            pass  # it waited its 50 ms in line, in vain
        assert (gate.running, gate.waiting) == (1, 0)
    assert gate.held == 0
    with gate.slot(time.monotonic() + WAIT):  # the slot is free again, not handed to it
        assert (gate.running, gate.waiting) == (1, 0)
    assert gate.held == 0
