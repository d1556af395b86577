"""The numbered log of committed changes (``changes`` table, written by triggers in the
same transaction as the change: migration 0007), for ``GET /v3/events``.

A reader asks for what came after a sequence number and may wait for more. Writers in
this process wake waiting readers through the event bus (events are emitted after the
commit, so the row is visible by then); a change another process made is seen within
``CHANGES_POLL_S``, by a cheap look at the table's newest number."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import Connection, text

from . import rules
from .core import Core
from .events import Event
from .records import now_us
from .sql.dialect import pick

DAY_US = 86_400 * 1_000_000


def _latest_sql(conn: Connection) -> str:
    """The newest number given. DIALECT: SQLite's AUTOINCREMENT counter; on PostgreSQL
    the newest committed row (pruning always keeps it): the sequence itself may be
    ahead by a number an uncommitted writer holds, which a reader must not skip."""
    return pick(
        conn,
        "SELECT seq FROM sqlite_sequence WHERE name = 'changes'",
        "SELECT max(seq) FROM changes",
    )


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    event: str  # image.created, image.updated, image.deleted, image.restored, image.purged
    image_id: str


@dataclass(frozen=True, slots=True)
class ChangesRead:
    changes: list[Change]
    reset: bool  # changes after the asked number were pruned: the reader missed some
    latest: int  # the newest number at the time of the read


class ChangeFeed:
    """``library.changes``. Thread-safe; ``close()`` wakes every waiting reader."""

    def __init__(self, core: Core, poll_s: float = rules.CHANGES_POLL_S) -> None:
        self.core = core
        self.poll_s = poll_s
        self._cond = threading.Condition()
        self._closed = False
        self._unsubscribe = core.events.subscribe(self._on_event)

    def _on_event(self, _event: Event) -> None:
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        self._unsubscribe()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed or self.core.closed

    def latest(self) -> int:
        """The newest number ever given (0 before the first change), pruned or not."""
        with self.core.read() as conn:
            value = conn.execute(text(_latest_sql(conn))).scalar()
        return int(value or 0)

    def read(self, since: int, limit: int = rules.MAX_EVENTS_PER_READ) -> ChangesRead:
        """Changes numbered after ``since`` (oldest first, at most ``limit``). ``since=0``
        means from the oldest kept, never a reset; a reset reads nothing (the reader
        refreshes what it shows and goes on after ``latest``)."""
        with self.core.read() as conn:
            latest = conn.execute(text(_latest_sql(conn))).scalar()
            oldest = conn.execute(text("SELECT min(seq) FROM changes")).scalar()
            reset = since > 0 and oldest is not None and oldest > since + 1
            if since > 0 and oldest is None and int(latest or 0) > since:
                reset = True  # everything after it was pruned (cannot happen: newest kept)
            rows = conn.execute(
                text(
                    "SELECT seq, event, image_id FROM changes WHERE seq > :since "
                    "ORDER BY seq LIMIT :limit"
                ),
                {"since": since, "limit": limit},
            ).all()
        if reset:  # the reader starts over from the newest: what is kept is not enough
            rows = []
        return ChangesRead([Change(*r) for r in rows], reset, int(latest or 0))

    def wait(self, since: int, timeout: float) -> ChangesRead:
        """``read(since)``, waiting up to ``timeout`` seconds for something to read (or
        until ``close()``)."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            found = self.read(since)
            remaining = deadline - time.monotonic()
            if found.changes or found.reset or remaining <= 0 or self.closed:
                return found
            with self._cond:
                if self._closed:
                    return found
                self._cond.wait(min(remaining, self.poll_s))

    def prune(self, keep_days: int = rules.CHANGES_KEEP_DAYS) -> int:
        """Drops changes older than ``keep_days``, always keeping the newest (so a reader
        can tell it missed some); returns how many went."""
        cutoff = now_us() - keep_days * DAY_US
        with self.core.write() as conn:
            gone = conn.execute(
                text(
                    "DELETE FROM changes WHERE at < :cutoff "
                    "AND seq < (SELECT max(seq) FROM changes)"
                ),
                {"cutoff": cutoff},
            ).rowcount
        return int(gone or 0)
