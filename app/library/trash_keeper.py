"""The trash's keeper: a thread that purges what has been in the trash past its time, at
open and hourly (``rules.TRASH_PURGE_INTERVAL_S``), in batches it can stop between."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("imageshelf.app.library.trash")


class RetentionKeeper:
    """Calls ``purge(stop)`` now and every ``interval_s`` on its own thread until
    ``stop()``; ``wake()`` runs a round at once (a shorter retention was set)."""

    def __init__(
        self,
        purge: Callable[[threading.Event], int],
        closed: Callable[[], bool],
        interval_s: float,
    ) -> None:
        self.purge = purge
        self.closed = closed
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._rounds = 0  # looks at the trash finished, for wait_for_a_round
        self._round_done = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="imageshelf-trash", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def wait_for_a_round(self, timeout: float) -> bool:
        with self._round_done:
            return self._round_done.wait_for(lambda: self._rounds > 0, timeout)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                purged = self.purge(self._stop)
                if purged:
                    log.info("purged %d images kept in the trash past their time", purged)
            except Exception as exc:  # a full disk now must not end retention for good
                if self.closed():
                    return
                log.warning("could not purge the trash: %s", exc)
            with self._round_done:
                self._rounds += 1
                self._round_done.notify_all()
            self._wake.wait(self.interval_s)
            self._wake.clear()
