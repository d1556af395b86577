"""Who owns the work in flight on a team library, and whether that owner still lives.

A folder library has one process (its lock), so at open every unfinished intent (a
move, a trash or restore) and every unfinished idempotency claim was left by a crash and
is finished or undone (``Library.open``). A team library has several live processes at
once: one of them may be in the middle of the very step another finds pending. So each
team process is an *owner*: it picks a number and holds the PostgreSQL session advisory
lock ``(OWNER_CLASS, number)`` on a connection of its own for as long as it is open. The
work it starts carries the number (``idempotency_keys.owner``, ``trash.owner``, the tail
of ``images.pending_path``); the lock goes with its connection when the process dies
(kill -9 included: the server ends the session), so ``live()`` (one read of
``pg_locks``) tells the owners whose work may still be running from the dead ones, whose
work any process recovers (``Library.recover_dead_owners``, at open and periodically).

Work without an owner (written before 0017, or in a folder library) counts as dead on a
team library. A process whose own connection to the server broke (a server restart)
takes its number again on the next check (``ProcessOwner.check``); until then its
pending steps may be recovered by another process: the same outcome as a crash."""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

# The first key of the two-key advisory locks (a space apart from the one-key locks of
# pg_engine.py: PostgreSQL keeps the two forms apart). Any int4 no other application uses.
OWNER_CLASS = 0x1A6E_5E1F

# engine → this process's owner number (None: a folder library, or not a team process).
_OWNERS: dict[int, int] = {}

_LIVE = (
    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND classid = :c AND objsubid = 2 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def owner_of(conn: Connection) -> int | None:
    """The owner number the work done on ``conn`` carries (None: no owner)."""
    return _OWNERS.get(id(conn.engine))


def live(conn: Connection) -> set[int]:
    """The owner numbers whose process holds its lock now."""
    if conn.dialect.name != "postgresql":  # DIALECT: one process, no owners
        return set()
    return {int(n) for n in conn.execute(text(_LIVE), {"c": OWNER_CLASS}).scalars()}


def is_dead(owner: int | None, alive: set[int]) -> bool:
    return owner is None or owner not in alive


def pending_tail(conn: Connection, sep: str) -> str:
    """What a move intent (``pending_path``) ends with: ``sep`` and the owner, or ''."""
    owner = owner_of(conn)
    return "" if owner is None else f"{sep}{owner}"


def split_owner(text_value: str, sep: str) -> tuple[str, int | None]:
    """A ``pending_path``'s name and owner (``pending_tail``)."""
    name, found, tail = text_value.partition(sep)
    if found and tail.isdigit():
        return name, int(tail)
    return text_value, None


class ProcessOwner:
    """This process as an owner of a team library's work: the number and the connection
    that holds its lock, until ``close()``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._guard = threading.Lock()
        self._conn: Connection | None = None
        self.number = 0
        for _attempt in range(20):
            number = secrets.randbelow(2**31 - 2) + 1
            if self._take(number):
                break
        else:
            raise RuntimeError("no free owner number")  # 20 random draws all taken
        _OWNERS[id(engine)] = self.number

    def _take(self, number: int) -> bool:
        conn = self.engine.connect()
        try:
            got = bool(
                conn.execute(
                    text("SELECT pg_try_advisory_lock(:c, :n)"), {"c": OWNER_CLASS, "n": number}
                ).scalar()
            )
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn, self.number = conn, number
        return True

    def check(self) -> bool:
        """Whether this process still holds its lock; takes it again on a new connection
        when the old one broke. False when it cannot (the server is unreachable)."""
        with self._guard:
            conn = self._conn
            if conn is not None:
                try:
                    conn.execute(text("SELECT 1")).scalar()
                    conn.commit()
                    return True
                except Exception:
                    with contextlib.suppress(Exception):
                        conn.invalidate()
                        conn.close()
                    self._conn = None
            try:
                ok = self._take(self.number)
            except Exception as exc:
                log.warning("The team library's database cannot be reached: %s", exc)
                return False
            if not ok:
                log.warning("Owner %d was taken over: its work may be redone", self.number)
            return ok

    def close(self) -> None:
        _OWNERS.pop(id(self.engine), None)
        with self._guard:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # the lock goes with the session anyway
                conn.execute(
                    text("SELECT pg_advisory_unlock(:c, :n)"), {"c": OWNER_CLASS, "n": self.number}
                )
                conn.commit()
            with contextlib.suppress(Exception):
                conn.close()
