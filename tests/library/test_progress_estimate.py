"""The time left of a long run, from its own pace (issue 21)."""

from __future__ import annotations

import logging

import pytest

from imageshelf.app.library.progress_estimate import (
    Estimate,
    ProgressLog,
    progress_text,
    time_left_text,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_estimate_follows_the_pace() -> None:
    clock = Clock()
    est = Estimate(clock)
    assert est.update(0, 100) is None  # nothing done: no pace yet
    clock.now += 2.0  # workers starting: not counted in the pace
    assert est.update(1, 100) is None
    for done in range(2, 21):
        clock.now += 0.5  # two a second
        left = est.update(done, 100)
    assert left == pytest.approx(40.0, rel=0.05)  # 80 left at 2/s
    for done in range(21, 61):
        clock.now += 0.25  # twice as fast now
        left = est.update(done, 100)
    assert left is not None and 10.0 <= left < 20.0  # following the new pace
    clock.now += 0.25
    assert est.update(100, 100) == 0.0


def test_time_left_reads_as_a_person_says_it() -> None:
    assert time_left_text(None) == ""
    assert time_left_text(4) == "a few seconds left"
    assert time_left_text(42) == "about 40 s left"
    assert time_left_text(150) == "about 2 min left"
    assert time_left_text(7200) == "about 2.0 h left"
    assert progress_text("Adding photos", 120, 2000, 95) == (
        "Adding photos: 120 of 2,000 — about 2 min left"
    )
    assert progress_text("Adding photos", 0, 2000, None) == "Adding photos: 0 of 2,000"


def test_a_long_run_logs_its_progress_now_and_then(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    logger = logging.getLogger("imageshelf.test.progress")
    logged = ProgressLog(logger, "Checking the library folder", every=5.0, clock=clock)
    with caplog.at_level(logging.INFO, logger=logger.name):
        for done in range(1, 201):
            clock.now += 0.1
            logged(done, 200)
    lines = [r.getMessage() for r in caplog.records]
    assert 3 <= len(lines) <= 6  # every 5 s of a 20 s run, and the end
    assert lines[-1] == "Checking the library folder: 200 of 200 — a few seconds left"
    assert any("of 200 — about" in line for line in lines)
    caplog.clear()
    short = ProgressLog(logger, "x", clock=clock)
    with caplog.at_level(logging.INFO, logger=logger.name):
        for done in range(1, 11):
            short(done, 10)
    assert caplog.records == []  # a few files: not worth a line
