"""The transform gate's queue follows the pace of the work: as long as the slots work
through in the wait bound, from 2 to 16 per slot and 32 in all."""

from __future__ import annotations

import time

from imageshelf.app.library import rules
from imageshelf.app.library.transforms import SlotGate


def test_queue_follows_the_pace_of_the_work() -> None:
    gate = SlotGate(slots=2)
    assert gate.queue == 32  # the first guess (0.25 s a result) allows 32 in 8 s
    for _ in range(40):  # results now take 1 s each
        gate.run(time.monotonic() + 5, lambda: (b"", 1.0))
    assert abs(gate.pace - 1.0) < 0.01
    assert gate.queue == 2 * int(rules.TRANSFORM_MAX_WAIT_S / 1.0)
    for _ in range(40):  # very slow: the queue keeps its floor of 2 per slot
        gate.run(time.monotonic() + 5, lambda: (b"", 30.0))
    assert gate.queue == 4
    for _ in range(40):  # very fast: at most 16 per slot, 32 in all
        gate.run(time.monotonic() + 5, lambda: (b"", 0.01))
    assert gate.queue == 32
    assert SlotGate(slots=1, queue=3).queue == 3  # a fixed queue stays fixed
    assert SlotGate(slots=8).queue == 32
