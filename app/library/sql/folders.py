"""Every statement on a folder and all that is inside it: the rows a folder rename or
move carries along, its intents (``pending_path``, the same form ``rows.set_pending``
writes for one image) and the commit that gives the rows their new folder.

A folder's inside is a range on the folder index: ``"a/" <= folder < "a0"`` is every
folder below ``a`` ("/" and "0" are neighbours in every collation that compares bytes)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from ..records import ImageRecord
from . import owners
from .dialect import pick
from .rows import PENDING_SEP, RECORD_COLUMNS, record

_INSIDE = "(folder = :src OR (folder >= :lo AND folder < :hi))"


def _scope(folder: str) -> dict[str, object]:
    return {"src": folder, "lo": folder + "/", "hi": folder + "0"}


def count_inside(conn: Connection, folder: str) -> int:
    """The images in ``folder`` and every folder below it."""
    found = conn.execute(text(f"SELECT COUNT(*) FROM images WHERE {_INSIDE}"), _scope(folder))
    return int(found.scalar_one())


def records_inside(conn: Connection, folder: str) -> list[ImageRecord]:
    found = conn.execute(
        text(f"SELECT {RECORD_COLUMNS} FROM images WHERE {_INSIDE}"), _scope(folder)
    )
    return [record(r) for r in found]


def folders_inside(conn: Connection, folder: str) -> set[str]:
    found = conn.execute(
        text(f"SELECT DISTINCT folder FROM images WHERE {_INSIDE}"), _scope(folder)
    )
    return set(found.scalars())


def set_pending_inside(conn: Connection, src: str, dst: str) -> None:
    """Each image's place once ``src`` is renamed to ``dst``, as its move intent."""
    conn.execute(
        text(
            "UPDATE images SET pending_path = :dst || substr(folder, :n) || :sep || filename "
            f"|| :tail WHERE {_INSIDE}"
        ),
        _scope(src)
        | {
            "dst": dst,
            "n": len(src) + 1,
            "sep": PENDING_SEP,
            "tail": owners.pending_tail(conn, PENDING_SEP),
        },
    )


def clear_pending_inside(conn: Connection, src: str) -> None:
    conn.execute(text(f"UPDATE images SET pending_path = NULL WHERE {_INSIDE}"), _scope(src))


def move_inside(conn: Connection, src: str, dst: str, now: int) -> None:
    """Commits the rename: every row below ``src`` now below ``dst``; names and the
    searched text are unchanged (a folder is not searched), ``updated_at`` moves on."""
    conn.execute(
        text(
            "UPDATE images SET folder = :dst || substr(folder, :n), pending_path = NULL, "
            # DIALECT: SQLite's two-argument MAX is PostgreSQL's GREATEST.
            f"updated_at = {pick(conn, 'MAX', 'GREATEST')}(:now, updated_at + 1) WHERE {_INSIDE}"
        ),
        _scope(src) | {"dst": dst, "n": len(src) + 1, "now": now},
    )
