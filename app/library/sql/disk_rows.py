"""What reconciliation compares with the folder: every row's place and facts, read as
plain tuples (this runs once per image at every start-up), and the files left alone
because they are not images the library accepts (``ignored_files``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, text

from .dialect import pick

_KNOWN = "SELECT id, folder, filename, size, mtime_ns, sha256 FROM images"
# (id, relpath, size, mtime_ns, sha256)
KnownTuple = tuple[str, str, int, int, str]


def _known(rows: Iterable[Any]) -> Iterator[KnownTuple]:
    for image_id, folder, filename, size, mtime_ns, sha in rows:
        yield image_id, (f"{folder}/{filename}" if folder else filename), size, mtime_ns, sha


def all_known(conn: Connection) -> Iterator[KnownTuple]:
    """Every row's place and facts. Plain tuples off the driver's own cursor: this runs
    once per image at every start-up, and SQLAlchemy's row objects cost ~10x per row."""
    driver: Any = conn.connection.driver_connection
    if driver is None:
        return _known(conn.execute(text(_KNOWN)))
    return _known(driver.execute(_KNOWN))


def known_under(conn: Connection, relpath: str) -> Iterator[KnownTuple]:
    """The rows a path can hold: the file at ``relpath``, and everything inside it as a
    folder; each answered by an index (the path's unique key, or a range of the folder
    index: "a/" <= folder < "a0" is everything inside "a/")."""
    folder, name = relpath.rsplit("/", 1) if "/" in relpath else ("", relpath)
    yield from _known(
        conn.execute(
            text(_KNOWN + " WHERE folder = :f AND filename = :n"), {"f": folder, "n": name}
        )
    )
    yield from _known(
        conn.execute(
            text(_KNOWN + " WHERE folder = :f OR (folder >= :lo AND folder < :hi)"),
            {"f": relpath, "lo": relpath + "/", "hi": relpath + "0"},
        )
    )


def settled_with_hash(conn: Connection, sha256: str) -> Iterator[KnownTuple]:
    """Rows with this content that no move of the app's own is under way for."""
    return _known(
        conn.execute(
            text(_KNOWN + " WHERE sha256 = :h AND pending_path IS NULL"), {"h": sha256}
        ).all()
    )


def ignored(conn: Connection) -> dict[str, tuple[int, int]]:
    return {
        r.path: (r.size, r.mtime_ns)
        for r in conn.execute(text("SELECT path, size, mtime_ns FROM ignored_files"))
    }


def ignore(conn: Connection, relpath: str, size: int, mtime_ns: int, reason: str) -> None:
    conn.execute(
        text(
            pick(  # DIALECT
                conn,
                "INSERT OR REPLACE INTO ignored_files (path, size, mtime_ns, reason) "
                "VALUES (:p, :s, :m, :r)",
                "INSERT INTO ignored_files (path, size, mtime_ns, reason) "
                "VALUES (:p, :s, :m, :r) ON CONFLICT (path) DO UPDATE SET "
                "size = excluded.size, mtime_ns = excluded.mtime_ns, reason = excluded.reason",
            )
        ),
        {"p": relpath, "s": size, "m": mtime_ns, "r": reason},
    )


def unignore(conn: Connection, relpaths: Iterable[str]) -> None:
    for p in relpaths:
        conn.execute(text("DELETE FROM ignored_files WHERE path = :p"), {"p": p})
