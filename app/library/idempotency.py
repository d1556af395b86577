"""Idempotency keys, kept in the library's database (``idempotency_keys``, migration
0007) so a restart keeps them: per API key (``principal``) and client key, the request's
fingerprint and, once it finished, the answer a retry gets again.

The rows are bookkeeping of requests, not of files, so they are written in their own
short transactions without the library's write lock: a claim never waits behind an
upload's file steps, and one ``INSERT OR IGNORE`` decides between two racing requests.
No request can still be running when a folder library opens (one process holds it), so
claims left unfinished by a kill are dropped then; on a team library each claim carries
its process's owner number and only those of dead processes are dropped
(``sql/owners.py``). Answers expire after ``IDEMPOTENCY_KEEP_S``."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import Connection, text

from . import rules
from .core import Core
from .records import now_us
from .sql import owners
from .sql.dialect import pick
from .sql.engine import database_errors, write_transaction


class Outcome(enum.Enum):
    PROCEED = "proceed"  # the first: run it, then ``finish`` or ``release``
    REPLAY = "replay"  # done before with the same content: answer ``stored`` again
    REUSED = "reused"  # the key was used for other content (or another endpoint)
    IN_PROGRESS = "in_progress"  # the first is still running


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    headers: str  # JSON object of the headers to send again
    body: bytes


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: Outcome
    stored: StoredAnswer | None = None


class IdempotencyStore:
    """``library.idempotency``. Thread-safe (each call its own transaction)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def claim(self, principal: str, key: str, endpoint: str, fingerprint: str) -> Claim:
        now = now_us()
        cutoff = now - rules.IDEMPOTENCY_KEEP_S * 1_000_000
        args = {"p": principal, "k": key, "e": endpoint, "f": fingerprint, "now": now}
        with (
            database_errors("remember the idempotency key"),
            write_transaction(self.core.engine) as conn,
        ):
            conn.execute(
                text(
                    "DELETE FROM idempotency_keys WHERE principal = :p AND key = :k "
                    "AND created_at < :cutoff AND status IS NOT NULL"
                ),
                {**args, "cutoff": cutoff},
            )
            inserted = conn.execute(
                text(
                    pick(  # DIALECT
                        conn,
                        "INSERT OR IGNORE INTO idempotency_keys "
                        "(principal, key, endpoint, fingerprint, created_at, owner) "
                        "VALUES (:p, :k, :e, :f, :now, :owner)",
                        "INSERT INTO idempotency_keys "
                        "(principal, key, endpoint, fingerprint, created_at, owner) "
                        "VALUES (:p, :k, :e, :f, :now, :owner) ON CONFLICT DO NOTHING",
                    )
                ),
                args | {"owner": owners.owner_of(conn)},
            ).rowcount
            if inserted:
                return Claim(Outcome.PROCEED)
            row = conn.execute(
                text(
                    "SELECT endpoint, fingerprint, status, headers, body, owner "
                    "FROM idempotency_keys WHERE principal = :p AND key = :k"
                ),
                args,
            ).one()
            same = (row[0], row[1]) == (endpoint, fingerprint)
            if same and row[2] is None and self._take_over(conn, args, row[5]):
                return Claim(Outcome.PROCEED)
        if not same:
            return Claim(Outcome.REUSED)
        if row[2] is None:
            return Claim(Outcome.IN_PROGRESS)
        return Claim(
            Outcome.REPLAY, StoredAnswer(int(row[2]), row[3] or "{}", bytes(row[4] or b""))
        )

    @staticmethod
    def _take_over(conn: Connection, args: dict[str, object], owner: int | None) -> bool:
        """A team library: the retry of a request whose process died runs now (its claim
        becomes this process's) rather than answering 409 until the next recovery
        round. Never on SQLite (one process: its claims are all live, or dropped at open)."""
        me = owners.owner_of(conn)
        if me is None or not owners.is_dead(owner, owners.live(conn)):
            return False
        held = "owner IS NULL" if owner is None else "owner = :old"
        taken = conn.execute(
            text(
                "UPDATE idempotency_keys SET owner = :me, created_at = :now "
                f"WHERE principal = :p AND key = :k AND status IS NULL AND {held}"
            ),
            args | {"me": me, "old": owner},
        )
        return bool(taken.rowcount)

    def finish(self, principal: str, key: str, answer: StoredAnswer) -> None:
        with database_errors("remember the answer"), write_transaction(self.core.engine) as conn:
            conn.execute(
                text(
                    "UPDATE idempotency_keys SET status = :s, headers = :h, body = :b "
                    "WHERE principal = :p AND key = :k"
                ),
                {
                    "s": answer.status,
                    "h": answer.headers,
                    "b": answer.body,
                    "p": principal,
                    "k": key,
                },
            )

    def release(self, principal: str, key: str) -> None:
        """Forgets a claim whose answer is not kept (a 400, a 5xx...): a retry runs again."""
        with (
            database_errors("forget the idempotency key"),
            write_transaction(self.core.engine) as conn,
        ):
            conn.execute(
                text("DELETE FROM idempotency_keys WHERE principal = :p AND key = :k"),
                {"p": principal, "k": key},
            )

    def recover(self, alive: set[int] | None = None) -> int:
        """Claims of requests a kill interrupted are dropped (a retry runs): at open, all
        of them (``alive`` None: a folder library has one process); on a team library
        those whose owner is not in ``alive`` (``sql/owners.py``). Returns how many."""
        with self.core.write() as conn:
            found = conn.execute(
                text("SELECT principal, key, owner FROM idempotency_keys WHERE status IS NULL")
            ).all()
            dead = [
                {"p": p, "k": k}
                for p, k, owner in found
                if alive is None or owners.is_dead(owner, alive)
            ]
            for args in dead:
                conn.execute(
                    text(
                        "DELETE FROM idempotency_keys "
                        "WHERE principal = :p AND key = :k AND status IS NULL"
                    ),
                    args,
                )
        return len(dead)

    def expire(self) -> int:
        cutoff = now_us() - rules.IDEMPOTENCY_KEEP_S * 1_000_000
        with self.core.write() as conn:
            gone = conn.execute(
                text("DELETE FROM idempotency_keys WHERE created_at < :c AND status IS NOT NULL"),
                {"c": cutoff},
            ).rowcount
        return int(gone or 0)
