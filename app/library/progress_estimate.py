"""How long a long run (adopting a folder, importing a drop) has left, from its own pace:
what a progress line says beside its count ("120 of 2,000 — about 1 min left")."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

# Before this many items are done, or this long has passed, the pace says little (worker
# processes are still starting, the first files are still in flight).
_MIN_ITEMS: Final = 3
_MIN_SECONDS: Final = 1.0
# Weight of the newest pace: steady enough not to jump about, quick to follow a change.
_SMOOTHING: Final = 0.2


class Estimate:
    """``update(done, total)`` after each step; ``seconds_left`` then ``None`` until the
    pace is known."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()
        self._first_done: tuple[int, float] | None = None
        self._rate: float | None = None  # items per second, smoothed
        self._last: tuple[int, float] | None = None
        self.seconds_left: float | None = None

    def update(self, done: int, total: int) -> float | None:
        now = self._clock()
        if done <= 0:
            return None
        if self._first_done is None:
            self._first_done = (done, now)
            self._last = (done, now)
            return None
        first_done, first_at = self._first_done
        assert self._last is not None
        last_done, last_at = self._last
        if done - first_done < _MIN_ITEMS or now - first_at < _MIN_SECONDS:
            return self.seconds_left
        if now - last_at >= 0.5 or self._rate is None:
            window_rate = (done - last_done) / max(now - last_at, 1e-6)
            overall = (done - first_done) / max(now - first_at, 1e-6)
            if self._rate is None:
                self._rate = overall
            else:
                self._rate = (1 - _SMOOTHING) * self._rate + _SMOOTHING * window_rate
            self._last = (done, now)
        self.seconds_left = max(0.0, (total - done) / self._rate) if self._rate else None
        return self.seconds_left


def time_left_text(seconds: float | None) -> str:
    """``about 2 min left``, ``a few seconds left``; ``""`` while unknown."""
    if seconds is None:
        return ""
    if seconds < 10:
        return "a few seconds left"
    if seconds < 60:
        return f"about {int(round(seconds, -1))} s left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    return f"about {minutes / 60:.1f} h left"


def progress_text(what: str, done: int, total: int, seconds: float | None) -> str:
    """``Adding photos: 120 of 2,000 — about 1 min left``."""
    left = time_left_text(seconds)
    return f"{what}: {done:,} of {total:,}" + (f" — {left}" if left else "")


class ProgressLog:
    """A progress line in the log every ``every`` seconds of a long run (what the
    terminal of ``imageshelf serve`` shows while a folder is adopted), and one at its end;
    silent for runs of fewer than ``at_least`` items."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        every: float = 5.0,
        at_least: int = 50,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.what, self.every, self.at_least = logger, what, every, at_least
        self._clock = clock
        self.estimate = Estimate(clock)
        self._next = clock() + every

    def __call__(self, done: int, total: int) -> None:
        seconds = self.estimate.update(done, total)
        if total < self.at_least:
            return
        now = self._clock()
        if done >= total or now >= self._next:
            self._next = now + self.every
            self.logger.info("%s", progress_text(self.what, done, total, seconds))
