"""A background thread that runs the library's small periodic chores — old changes
pruned, expired idempotency keys dropped — at open and then every interval, until the
library closes. A chore that fails (a full disk) is logged and tried again next time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Chore = Callable[[], object]


class Housekeeper:
    def __init__(self, chores: dict[str, Chore], interval_s: float) -> None:
        self.chores = chores
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._rounds = 0
        self._running = False
        self._wake = threading.Event()  # set by stop() and run_now()
        self._round_done = threading.Condition()
        self._thread = threading.Thread(
            target=self._run, name="imageshelf-housekeeping", daemon=True
        )

    def stopping(self) -> bool:
        """Whether ``stop()`` was called: a long chore asks between its steps."""
        return self._stop.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._round_done:
            self._round_done.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def run_once(self) -> None:
        for name, chore in self.chores.items():
            if self._stop.is_set():
                return
            try:
                chore()
            except Exception as exc:
                log.warning("housekeeping (%s) failed, to be tried again: %s", name, exc)

    def run_now(self, timeout: float) -> bool:
        """Starts a round now (not at the end of the interval) and waits until a round
        that began after this call has finished (the one under way, if any, may have
        missed what the caller just did); False on timeout or when stopped first."""
        with self._round_done:
            target = self._rounds + (2 if self._running else 1)
            self._wake.set()
            done = self._round_done.wait_for(
                lambda: self._rounds >= target or self._stop.is_set(), timeout
            )
            return done and not self._stop.is_set()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._round_done:
                self._running = True
            self.run_once()
            with self._round_done:
                self._running = False
                self._rounds += 1
                self._round_done.notify_all()
            if self._wake.wait(self.interval_s):
                self._wake.clear()
