"""Changes everywhere (a team library): what another process commits reaches this
process's ``EventBus`` within a second, through PostgreSQL's LISTEN/NOTIFY.

The change triggers (migration 0007) NOTIFY every numbered change inside the writing
transaction, so the notice is delivered exactly when the change commits (never for a
rolled-back one), with its number and the writer engine's name (``pg_engine.origin``).
One thread per ``Library`` listens on a connection of its own, skips its own engine's
changes (already announced after their commit, with the image before and after), reads
the others' rows from ``changes`` and emits them as events (``source="team"``): the
window refreshes, ``ChangeFeed`` wakes its ``GET /v3/events`` readers. A change of
the kept folders (``sql/kept_folders.py``) is passed to ``Core.folders_changed`` (the
windows read their folders again).

A lost connection (a server restart) is retried every second; on reconnecting, every
change numbered after the last one seen is announced, so a gap costs a duplicate at
worst, never a miss."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import bindparam, text

from .core import Core
from .events import Event, EventKind
from .sql import pg_engine, rows

log = logging.getLogger(__name__)

_KINDS = {
    "image.created": EventKind.ADDED,
    "image.updated": EventKind.UPDATED,
    "image.deleted": EventKind.DELETED,
    "image.restored": EventKind.RESTORED,
    "image.purged": EventKind.PURGED,
}
# How long one wait for notices lasts before the thread looks at its stop flag.
_WAIT_S = 0.25
_RETRY_S = 1.0


class ChangeBridge:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.origin = pg_engine.origin(core.engine)
        self._conninfo = core.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="imageshelf-changes", daemon=True)
        self._conn: object | None = None
        self._last = 0  # the newest change number this bridge has seen

    def start(self) -> None:
        """Listens before returning: a change committed after ``open_team`` returned is
        never missed."""
        self._connect()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        self._close()

    def _connect(self) -> None:
        import psycopg

        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10)
        conn.execute(f"LISTEN {pg_engine.CHANNEL}")
        latest = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()
        if self._conn is None and not self._last:
            self._last = int(latest[0]) if latest else 0
        self._conn = conn

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()  # type: ignore[attr-defined]
            except Exception:  # already broken: nothing to release
                log.debug("closing the change listener failed", exc_info=True)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set() and not self.core.closed:
            if self._conn is None:
                try:
                    self._connect()
                except psycopg.Error as exc:
                    log.warning("Cannot listen for other processes' changes: %s", exc)
                    self._stop.wait(_RETRY_S)
                    continue
                self._publish_after(self._last)  # whatever came while we were away
            conn = self._conn
            assert isinstance(conn, psycopg.Connection)
            seqs: list[int] = []
            folders = False
            try:
                for notice in conn.notifies(timeout=_WAIT_S):
                    number, _, writer = notice.payload.partition(" ")
                    if number == "folders":  # sql/kept_folders.py: made, renamed, deleted
                        folders = folders or writer != self.origin
                    elif number.isdigit():
                        seq = int(number)
                        self._last = max(self._last, seq)
                        if writer != self.origin:
                            seqs.append(seq)
            except psycopg.Error as exc:
                log.warning("Lost the connection that hears other processes' changes: %s", exc)
                self._close()
                continue
            if seqs:
                self._publish(seqs)
            if folders and not self.core.closed:
                self.core.folders_changed()

    def _publish_after(self, after: int) -> None:
        try:
            with self.core.read() as c:
                found = c.execute(
                    text("SELECT seq FROM changes WHERE seq > :a ORDER BY seq"), {"a": after}
                ).scalars()
                self._publish([int(s) for s in found])
        except Exception:
            log.exception("Could not read the changes made while disconnected")

    def _publish(self, seqs: list[int]) -> None:
        if self.core.closed:
            return
        try:
            with self.core.read() as conn:
                found = conn.execute(
                    text(
                        "SELECT seq, event, image_id FROM changes WHERE seq IN :seqs ORDER BY seq"
                    ).bindparams(bindparam("seqs", expanding=True)),
                    {"seqs": seqs},
                ).all()
                events = []
                for seq, name, image_id in found:
                    self._last = max(self._last, int(seq))
                    kind = _KINDS.get(name)
                    if kind is None:
                        continue
                    image = None
                    if kind in (EventKind.ADDED, EventKind.UPDATED, EventKind.RESTORED):
                        image = rows.get(conn, image_id)
                        if image is None:
                            continue  # gone since: its deletion follows
                    events.append(Event(kind, image_id, image, None, source="team"))
        except Exception:
            log.exception("Could not read other processes' changes")
            return
        for event in events:
            self.core.events.emit(event)
