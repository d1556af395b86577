"""Every statement on the ``trash`` table (a trashed image's row, column for column as it
was in ``images``, plus ``deleted_at`` and the intent of a trash or restore in flight)
and on ``settings``. Writers call these inside ``Core.write()``.

Rows move between ``images`` and ``trash`` by column name, read from the schema: a
column a later migration adds to both tables is carried to the trash and back without a
change here (``test_every_image_column_is_kept_in_the_trash`` checks that it is in
both)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from ..filters import search_text
from ..folder_limit import FolderLimit
from ..records import ImageRecord, folder_to_db
from . import owners
from .dialect import is_pg, pick
from .rows import RECORD_COLUMNS, record

TRASHING = "trashing"
RESTORING = "restoring"
SEP = "\x1f"  # between the destination folder and name of a restore in flight
# Columns of ``images`` that are not the image's data: its row number (a restored image
# gets a new one; nothing outside the database refers to it) and a move's intent.
_NOT_COPIED = frozenset({"pk", "pending_path"})
_SETTLED = "intent IS NULL"


@dataclass(frozen=True, slots=True)
class TrashedRow:
    image: ImageRecord
    deleted_at_us: int


@dataclass(frozen=True, slots=True)
class PendingRow:
    image: ImageRecord
    intent: str
    dest_folder: str  # as stored ("" for the root)
    dest_filename: str
    owner: int | None = None  # the team process doing it (``sql/owners.py``)


def _image_columns(conn: Connection) -> tuple[str, ...]:
    if is_pg(conn):  # DIALECT
        names = list(
            conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = "
                    "'images' AND table_schema = current_schema() ORDER BY ordinal_position"
                )
            ).scalars()
        )
    else:
        names = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(images)")]
    return tuple(n for n in names if n not in _NOT_COPIED)


def _trashed(row: Any) -> TrashedRow:
    return TrashedRow(record(row), row[-1])


# --- reading ---------------------------------------------------------------------------


def get(conn: Connection, image_id: str) -> TrashedRow | None:
    """A settled trash row (none while a trash or restore of it is in flight)."""
    row = conn.execute(
        text(f"SELECT {RECORD_COLUMNS}, deleted_at FROM trash WHERE id = :id AND {_SETTLED}"),
        {"id": image_id},
    ).first()
    return _trashed(row) if row else None


def _within(within: FolderLimit | None) -> tuple[str, dict[str, object]]:
    if within is None:
        return "", {}
    clause, params = within.where()
    return f" AND {clause}", params


def count(conn: Connection, within: FolderLimit | None = None) -> int:
    """Settled rows (inside an API key's folders, when it is limited)."""
    where, params = _within(within)
    return int(
        conn.execute(
            text(f"SELECT COUNT(*) FROM trash WHERE {_SETTLED}{where}"), params
        ).scalar_one()
    )


def page(
    conn: Connection, offset: int, limit: int, within: FolderLimit | None = None
) -> list[TrashedRow]:
    """Most recently deleted first."""
    where, params = _within(within)
    found = conn.execute(
        text(
            f"SELECT {RECORD_COLUMNS}, deleted_at FROM trash WHERE {_SETTLED}{where} "
            "ORDER BY deleted_at DESC, id DESC LIMIT :limit OFFSET :offset"
        ),
        params | {"limit": limit, "offset": offset},
    )
    return [_trashed(r) for r in found]


def _older(cutoff: int | None) -> tuple[str, dict[str, object]]:
    if cutoff is None:
        return "", {}
    return " AND deleted_at <= :cutoff", {"cutoff": cutoff}


def count_older(conn: Connection, cutoff: int | None) -> int:
    """Settled rows deleted at or before ``cutoff`` (every one when ``None``)."""
    where, params = _older(cutoff)
    return int(
        conn.execute(
            text(f"SELECT COUNT(*) FROM trash WHERE {_SETTLED}{where}"), params
        ).scalar_one()
    )


def ids_older(conn: Connection, cutoff: int | None, limit: int) -> list[str]:
    """The longest-trashed settled ids first (what a purge batch takes)."""
    where, params = _older(cutoff)
    return list(
        conn.execute(
            text(f"SELECT id FROM trash WHERE {_SETTLED}{where} ORDER BY deleted_at, id LIMIT :n"),
            params | {"n": limit},
        ).scalars()
    )


def pending(conn: Connection) -> list[PendingRow]:
    found = conn.execute(
        text(
            f"SELECT {RECORD_COLUMNS}, intent, intent_path, owner FROM trash "
            "WHERE intent IS NOT NULL"
        )
    )
    out = []
    for r in found:
        folder, _, name = (r[-2] or SEP).partition(SEP)
        out.append(PendingRow(record(r), r[-3], folder, name, r[-1]))
    return out


def files(conn: Connection) -> list[tuple[str, str]]:
    """(id, filename) of every row, settled or not: what ``trash/`` may hold."""
    return [(r[0], r[1]) for r in conn.execute(text("SELECT id, filename FROM trash"))]


def hash_in_use(conn: Connection, sha256: str) -> bool:
    """Whether a live or a trashed image has these bytes (and so needs the thumbnail)."""
    found = conn.execute(
        text(
            "SELECT 1 FROM images WHERE sha256 = :h UNION ALL "
            "SELECT 1 FROM trash WHERE sha256 = :h LIMIT 1"
        ),
        {"h": sha256},
    )
    return found.first() is not None


def ids_in_folder(conn: Connection, folder: str) -> list[str]:
    """Live images in ``folder`` and every folder below it."""
    return list(
        conn.execute(
            text("SELECT id FROM images WHERE folder = :f OR (folder >= :lo AND folder < :hi)"),
            {"f": folder, "lo": folder + "/", "hi": folder + "0"},
        ).scalars()
    )


# --- writing ---------------------------------------------------------------------------


def copy_in(conn: Connection, image_id: str, now: int) -> None:
    """The intent of a trash: the live row copied, ``intent = 'trashing'``."""
    cols = ", ".join(_image_columns(conn))
    conn.execute(
        text(
            f"INSERT INTO trash ({cols}, deleted_at, intent, owner) "
            f"SELECT {cols}, :now, :intent, :owner FROM images WHERE id = :id"
        ),
        {"now": now, "intent": TRASHING, "id": image_id, "owner": owners.owner_of(conn)},
    )


def settle(conn: Connection, image_id: str) -> None:
    conn.execute(
        text("UPDATE trash SET intent = NULL, intent_path = NULL WHERE id = :id"),
        {"id": image_id},
    )


def set_deleted_at(conn: Connection, image_id: str, deleted_at: int) -> None:
    """A trashed image copied from another library keeps when it was deleted there (so
    its retention ends when it would have)."""
    conn.execute(
        text("UPDATE trash SET deleted_at = :at WHERE id = :id"), {"at": deleted_at, "id": image_id}
    )


def drop(conn: Connection, image_id: str) -> None:
    conn.execute(text("DELETE FROM trash WHERE id = :id"), {"id": image_id})


def mark_restoring(conn: Connection, image_id: str, folder: str | None, filename: str) -> None:
    conn.execute(
        text("UPDATE trash SET intent = :i, intent_path = :p, owner = :o WHERE id = :id"),
        {
            "i": RESTORING,
            "p": folder_to_db(folder) + SEP + filename,
            "id": image_id,
            "o": owners.owner_of(conn),
        },
    )


def tombstone(conn: Connection, image_id: str, now: int) -> None:
    """The id answers 410 (kept while trashed, and for ever once purged)."""
    conn.execute(
        text(
            pick(  # DIALECT
                conn,
                "INSERT OR IGNORE INTO tombstones (id, deleted_at) VALUES (:id, :now)",
                "INSERT INTO tombstones (id, deleted_at) VALUES (:id, :now) ON CONFLICT DO NOTHING",
            )
        ),
        {"id": image_id, "now": now},
    )


def restore(conn: Connection, trashed: ImageRecord, filename: str, mtime_ns: int, now: int) -> None:
    """The trash row back into ``images`` under ``filename``: every data column as it
    was, but the name and what follows from it (a taken name dates the change)."""
    renamed = filename != trashed.filename
    override = {
        "filename": ":filename",
        "mtime_ns": ":mtime",
        "search_text": ":search",
        "updated_at": ":updated" if renamed else "updated_at",
    }
    cols = _image_columns(conn)
    values = ", ".join(override.get(c, c) for c in cols)
    conn.execute(
        text(f"INSERT INTO images ({', '.join(cols)}) SELECT {values} FROM trash WHERE id = :id"),
        {
            "filename": filename,
            "mtime": mtime_ns,
            "search": search_text(filename, trashed.original_filename, trashed.alt_text),
            "updated": max(now, trashed.updated_at_us + 1),
            "id": trashed.id,
        },
    )
    drop(conn, trashed.id)
    conn.execute(text("DELETE FROM tombstones WHERE id = :id"), {"id": trashed.id})


def purge(conn: Connection, image_ids: list[str], now: int) -> list[tuple[str, str, str]]:
    """Settled rows out (their tombstones stay); returns (id, filename, sha256) of those
    that were there, for their files and thumbnails."""
    gone = []
    for image_id in image_ids:
        row = conn.execute(
            text(f"SELECT id, filename, sha256 FROM trash WHERE id = :id AND {_SETTLED}"),
            {"id": image_id},
        ).first()
        if row is None:
            continue
        gone.append((row[0], row[1], row[2]))
        drop(conn, image_id)
        tombstone(conn, image_id, now)
    return gone


# --- settings --------------------------------------------------------------------------


def setting(conn: Connection, key: str) -> Any:
    raw = conn.execute(text("SELECT value FROM settings WHERE key = :k"), {"k": key}).scalar()
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None  # a value written by hand and broken: the default stands


def set_setting(conn: Connection, key: str, value: Any) -> None:
    conn.execute(
        text(
            "INSERT INTO settings (key, value) VALUES (:k, :v) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        ),
        {"k": key, "v": json.dumps(value)},
    )
