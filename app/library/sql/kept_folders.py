"""Every statement on ``kept_folders`` (0017): the folders a person made, renamed or
moved on a storage whose folders are rows (an object store), which stay while empty.
A folder's inside is the same byte range as in ``sql/folders.py``. On PostgreSQL each
change also notifies the other processes (``pg_notify``: their windows read the
folders again)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from . import pg_engine
from .dialect import is_pg, pick

_INSIDE = "(path = :src OR (path >= :lo AND path < :hi))"


def _scope(folder: str) -> dict[str, object]:
    return {"src": folder, "lo": folder + "/", "hi": folder + "0"}


def all_paths(conn: Connection) -> set[str]:
    return set(conn.execute(text("SELECT path FROM kept_folders")).scalars())


def any_inside(conn: Connection, folder: str) -> bool:
    found = conn.execute(
        text(f"SELECT 1 FROM kept_folders WHERE {_INSIDE} LIMIT 1"), _scope(folder)
    )
    return found.first() is not None


def keep(conn: Connection, folder: str, now: int) -> None:
    conn.execute(
        text(
            pick(  # DIALECT
                conn,
                "INSERT OR IGNORE INTO kept_folders (path, created_at) VALUES (:p, :now)",
                "INSERT INTO kept_folders (path, created_at) VALUES (:p, :now) "
                "ON CONFLICT DO NOTHING",
            )
        ),
        {"p": folder, "now": now},
    )
    _announce(conn)


def forget_inside(conn: Connection, folder: str) -> None:
    conn.execute(text(f"DELETE FROM kept_folders WHERE {_INSIDE}"), _scope(folder))
    _announce(conn)


def move_inside(conn: Connection, src: str, dst: str) -> None:
    """Every kept folder at or below ``src`` now at or below ``dst``."""
    conn.execute(
        text(f"UPDATE kept_folders SET path = :dst || substr(path, :n) WHERE {_INSIDE}"),
        _scope(src) | {"dst": dst, "n": len(src) + 1},
    )
    _announce(conn)


def _announce(conn: Connection) -> None:
    """Delivered at commit (never for a rolled-back change), like the change triggers'."""
    if is_pg(conn):  # DIALECT: one process on SQLite, nobody else to tell
        conn.execute(
            text("SELECT pg_notify(:ch, :payload)"),
            {"ch": pg_engine.CHANNEL, "payload": "folders " + pg_engine.origin(conn.engine)},
        )
