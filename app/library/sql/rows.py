"""Every statement on one image's row and on the tombstones, and the
one way a row becomes an ``ImageRecord`` (``record``, also used by the listing and by the
``/i`` fast lookup in ``lookup.py``). What reconciliation compares with the folder (the
rows' places and facts, the ignored files) is in ``disk_rows.py``.

Writers call these inside ``Core.write()`` (one transaction, under the write lock); the
search text is computed here, from ``filters.search_text``, by the three statements that
change a searched field (``insert``, ``set_alt_text``, ``set_place``) and nowhere else."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, text

from .. import exif_facts
from ..exif_facts import READER_VERSION, ExifFacts
from ..filters import search_text
from ..records import FolderInfo, ImageRecord, folder_from_db, folder_to_db
from . import owners
from .dialect import is_pg, pick

# The columns of an ``ImageRecord``, in the order ``record`` reads them.
RECORD_COLUMNS = (
    "id, folder, filename, original_filename, content_type, size, width, height, sha256, "
    "alt_text, created_at, updated_at, long_description, custom_metadata, "
    + ", ".join(exif_facts.COLUMNS)
)
_EXIF_AT = 14  # where the EXIF columns start in a record's row
_EXIF_END = _EXIF_AT + len(exif_facts.COLUMNS)
# "make = :make, ..." for the statements that write the facts.
_SET_EXIF = ", ".join(f"{c} = :{c}" for c in exif_facts.COLUMNS) + ", exif_read = :exif_read"
# Between the destination folder and name of a move in flight (``pending_path``).
PENDING_SEP = "\x1f"


def record(row: Sequence[Any]) -> ImageRecord:
    """A row of ``RECORD_COLUMNS`` (a SQLAlchemy row or a plain ``sqlite3`` tuple)."""
    return ImageRecord(
        id=row[0],
        folder=folder_from_db(row[1]),
        filename=row[2],
        original_filename=row[3],
        content_type=row[4],
        size=row[5],
        width=row[6],
        height=row[7],
        sha256=row[8],
        alt_text=row[9],
        created_at_us=row[10],
        updated_at_us=row[11],
        long_description=row[12],
        metadata_json=row[13],
        exif=exif_facts.from_columns(tuple(row[_EXIF_AT:_EXIF_END])),
    )


def exif_params(facts: ExifFacts) -> dict[str, object]:
    """The parameters of ``_SET_EXIF``: the facts, read now by this reader."""
    values = dict(zip(exif_facts.COLUMNS, exif_facts.to_columns(facts), strict=True))
    return values | {"exif_read": READER_VERSION}


# --- reading ---------------------------------------------------------------------------


def get(conn: Connection, image_id: str) -> ImageRecord | None:
    row = conn.execute(
        text(f"SELECT {RECORD_COLUMNS} FROM images WHERE id = :id"), {"id": image_id}
    ).first()
    return record(row) if row else None


def is_tombstoned(conn: Connection, image_id: str) -> bool:
    found = conn.execute(text("SELECT 1 FROM tombstones WHERE id = :id"), {"id": image_id})
    return found.first() is not None


def by_hash(conn: Connection, sha256: str) -> list[ImageRecord]:
    rows = conn.execute(
        text(f"SELECT {RECORD_COLUMNS} FROM images WHERE sha256 = :h"), {"h": sha256}
    )
    return [record(r) for r in rows]


def first_places_by_hash(conn: Connection, hashes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """For each of ``hashes`` some row holds: (the id, the relpath) of one such row. One
    indexed read for a batch of imports (``by_hash`` a file was a read each)."""
    if not hashes:
        return {}
    # DIALECT: the driver's own placeholders (sqlite3: ?, psycopg: %s).
    mark = "%s" if is_pg(conn) else "?"
    found = conn.exec_driver_sql(
        "SELECT sha256, id, folder, filename FROM images "
        f"WHERE sha256 IN ({', '.join([mark] * len(hashes))}) ORDER BY sha256, id",
        tuple(hashes),
    )
    places: dict[str, tuple[str, str]] = {}
    for sha, image_id, folder, filename in found:
        folder = folder_from_db(folder)
        places.setdefault(sha, (image_id, f"{folder}/{filename}" if folder else filename))
    return places


def exists_at(conn: Connection, folder: str | None, filename: str) -> bool:
    found = conn.execute(
        text("SELECT 1 FROM images WHERE folder = :f AND filename = :n"),
        {"f": folder_to_db(folder), "n": filename},
    )
    return found.first() is not None


_TAKEN_NAMES: Final = (
    "SELECT filename FROM images WHERE folder = :f AND filename >= :lo AND filename < :hi"
)


def taken_names(conn: Connection | sqlite3.Connection, folder: str | None, stem: str) -> set[str]:
    """Names in ``folder`` that start with ``stem``: one range query on the
    (folder, filename) index finds every candidate ``rules.candidate_filenames`` makes.
    ``conn``: SQLAlchemy's, or SQLite's own (``Core.write_rows``)."""
    params = {"f": folder_to_db(folder), "lo": stem, "hi": stem + "\U0010ffff"}
    if isinstance(conn, sqlite3.Connection):
        return {name for (name,) in conn.execute(_TAKEN_NAMES, params)}
    return set(conn.execute(text(_TAKEN_NAMES), params).scalars())


def taken_among(
    conn: Connection | sqlite3.Connection, folder: str | None, names: Sequence[str]
) -> set[str]:
    """Which of ``names`` rows in ``folder`` hold: one indexed read for a few names.
    Every upload asks it under the write lock: the driver's own statement (one per
    number of names, a handful), not an expanding ``IN`` that SQLAlchemy renders anew
    each time (≈ 0.1 ms an upload)."""
    if not names:
        return set()
    # DIALECT: the driver's own placeholders (sqlite3: ?, psycopg: %s).
    mark = "?" if isinstance(conn, sqlite3.Connection) or not is_pg(conn) else "%s"
    sql = (
        "SELECT filename FROM images WHERE folder = "
        f"{mark} AND filename IN ({', '.join([mark] * len(names))})"
    )
    params = (folder_to_db(folder), *names)
    if isinstance(conn, sqlite3.Connection):
        return {name for (name,) in conn.execute(sql, params)}
    return {name for (name,) in conn.exec_driver_sql(sql, params)}


def folder_counts(conn: Connection) -> list[FolderInfo]:
    rows = conn.execute(
        text("SELECT folder, count FROM folder_counts WHERE folder != '' ORDER BY folder")
    )
    return [FolderInfo(folder, count) for folder, count in rows]


# --- writing ---------------------------------------------------------------------------


def insert(conn: Connection | sqlite3.Connection, rec: ImageRecord, mtime_ns: int) -> None:
    """The one insert of an image row (an upload, an import, a file adopted from disk).
    The row holds exactly ``rec``'s values: no column default or trigger changes them,
    so callers hand ``rec`` on without reading it back. ``conn``: SQLAlchemy's, or
    SQLite's own (``Core.write_rows``)."""
    # DIALECT: the driver's own placeholders (sqlite3: ?, psycopg: %s).
    mark = "?" if isinstance(conn, sqlite3.Connection) or not is_pg(conn) else "%s"
    sql = (
        "INSERT INTO images (id, folder, filename, original_filename, content_type, size, "
        "width, height, sha256, mtime_ns, alt_text, search_text, created_at, updated_at, "
        f"long_description, custom_metadata, {', '.join(exif_facts.COLUMNS)}, exif_read) "
        f"VALUES ({', '.join([mark] * (17 + len(exif_facts.COLUMNS)))})"
    )
    values = (
        rec.id,
        folder_to_db(rec.folder),
        rec.filename,
        rec.original_filename,
        rec.content_type,
        rec.size,
        rec.width,
        rec.height,
        rec.sha256,
        mtime_ns,
        rec.alt_text,
        search_text(rec.filename, rec.original_filename, rec.alt_text),
        rec.created_at_us,
        rec.updated_at_us,
        rec.long_description,
        rec.metadata_json,
        *exif_facts.to_columns(rec.exif),
        READER_VERSION,
    )
    if isinstance(conn, sqlite3.Connection):
        conn.execute(sql, values)
    else:
        conn.exec_driver_sql(sql, values)


def set_custom_metadata(
    conn: Connection, image_id: str, metadata_json: str | None, now: int
) -> None:
    """The image's custom_metadata replaced (``PATCH`` merged it already); the
    ``image_metadata`` rows the filter reads follow by trigger (migration 0008)."""
    conn.execute(
        text("UPDATE images SET custom_metadata = :m, updated_at = :now WHERE id = :id"),
        {"m": metadata_json, "now": now, "id": image_id},
    )


def set_alt_text(conn: Connection, rec: ImageRecord, alt_text: str | None, now: int) -> None:
    conn.execute(
        text(
            "UPDATE images SET alt_text = :alt, search_text = :search, updated_at = :now "
            "WHERE id = :id"
        ),
        {
            "alt": alt_text,
            "search": search_text(rec.filename, rec.original_filename, alt_text),
            "now": now,
            "id": rec.id,
        },
    )


def set_text(
    conn: Connection,
    rec: ImageRecord,
    alt_text: str | None,
    long_description: str | None,
    now: int,
    *,
    file: tuple[str, int, int] | None = None,
) -> None:
    """Alt text and long description saved; ``file``: the (sha256, size, mtime_ns) of the
    file when it was rewritten to carry them (``write_back.py``), in the same commit."""
    params: dict[str, object] = {
        "alt": alt_text,
        "long": long_description,
        "search": search_text(rec.filename, rec.original_filename, alt_text),
        "now": now,
        "id": rec.id,
    }
    extra = ""
    if file is not None:
        extra = ", sha256 = :sha, size = :s, mtime_ns = :m"
        params["sha"], params["s"], params["m"] = file
    conn.execute(
        text(
            "UPDATE images SET alt_text = :alt, long_description = :long, "
            f"search_text = :search, updated_at = :now{extra} WHERE id = :id"
        ),
        params,
    )


def set_place(
    conn: Connection,
    rec: ImageRecord,
    folder: str | None,
    filename: str,
    now: int,
    *,
    stat: tuple[int, int] | None = None,
) -> None:
    """The image now lives at ``folder/filename`` (a move finished, by the app or found
    on disk); clears any move in flight. ``stat``: the file's (size, mtime_ns) when the
    move was found on disk."""
    params: dict[str, object] = {
        "f": folder_to_db(folder),
        "n": filename,
        "search": search_text(filename, rec.original_filename, rec.alt_text),
        "now": now,
        "id": rec.id,
    }
    extra = ""
    if stat is not None:
        extra = ", size = :s, mtime_ns = :m"
        params["s"], params["m"] = stat
    conn.execute(
        text(
            "UPDATE images SET folder = :f, filename = :n, search_text = :search, "
            f"pending_path = NULL, updated_at = :now{extra} WHERE id = :id"
        ),
        params,
    )


def set_pending(conn: Connection, image_id: str, folder: str | None, filename: str) -> None:
    """Records where a move is about to put the file (its intent), before the link."""
    conn.execute(
        text("UPDATE images SET pending_path = :p WHERE id = :id"),
        {
            "p": folder_to_db(folder)
            + PENDING_SEP
            + filename
            + owners.pending_tail(conn, PENDING_SEP),
            "id": image_id,
        },
    )


def clear_pending(conn: Connection, image_id: str) -> None:
    conn.execute(text("UPDATE images SET pending_path = NULL WHERE id = :id"), {"id": image_id})


@dataclass(frozen=True, slots=True)
class PendingMove:
    id: str
    folder: str | None
    filename: str
    dest_folder: str | None
    dest_filename: str
    owner: int | None = None  # the team process moving it (``sql/owners.py``)


def pending_moves(conn: Connection) -> list[PendingMove]:
    rows = conn.execute(
        text("SELECT id, folder, filename, pending_path FROM images WHERE pending_path IS NOT NULL")
    ).all()
    out = []
    for image_id, folder, filename, pending in rows:
        dest_folder, sep, dest_name = pending.partition(PENDING_SEP)
        if not sep:
            continue  # not an intent this code wrote: nothing to finish
        dest_name, owner = owners.split_owner(dest_name, PENDING_SEP)
        out.append(
            PendingMove(
                image_id,
                folder_from_db(folder),
                filename,
                folder_from_db(dest_folder),
                dest_name,
                owner,
            )
        )
    return out


def set_stat(conn: Connection, image_id: str, sha256: str, size: int, mtime_ns: int) -> None:
    """The file was touched, not changed: new size/mtime, only if the content is the same."""
    conn.execute(
        text("UPDATE images SET size = :s, mtime_ns = :m WHERE id = :id AND sha256 = :sha"),
        {"s": size, "m": mtime_ns, "id": image_id, "sha": sha256},
    )


def set_content(
    conn: Connection,
    image_id: str,
    *,
    size: int,
    mtime_ns: int,
    sha256: str,
    width: int,
    height: int,
    content_type: str,
    now: int,
    described: tuple[ImageRecord, str | None, str | None] | None = None,
    exif: ExifFacts = exif_facts.NO_EXIF,
) -> None:
    """The file was edited in place: its new facts, EXIF too. ``described``: (the row
    before, alt text, long description) when the edited file brought a description."""
    extra = ""
    if described is not None:
        before, alt, long = described
        extra = ", alt_text = :alt, long_description = :long, search_text = :search"
        fields = {
            "alt": alt,
            "long": long,
            "search": search_text(before.filename, before.original_filename, alt),
        }
    conn.execute(
        text(
            "UPDATE images SET size = :s, mtime_ns = :m, sha256 = :sha, width = :w, "
            f"height = :h, content_type = :ct, updated_at = :now{extra}, {_SET_EXIF} "
            "WHERE id = :id"
        ),
        (fields if described is not None else {})
        | exif_params(exif)
        | {
            "s": size,
            "m": mtime_ns,
            "sha": sha256,
            "w": width,
            "h": height,
            "ct": content_type,
            "now": now,
            "id": image_id,
        },
    )


def set_exif(conn: Connection, image_id: str, sha256: str, facts: ExifFacts) -> bool:
    """The facts read from the file of ``image_id`` (``exif_fill.py``), if the file is
    still the one that was read (same hash). Neither ``updated_at`` nor any field the API
    shows as the image's own changes: the file said this all along."""
    found = conn.execute(
        text(f"UPDATE images SET {_SET_EXIF} WHERE id = :id AND sha256 = :sha"),
        exif_params(facts) | {"id": image_id, "sha": sha256},
    )
    return bool(found.rowcount)


def unread_exif(
    conn: Connection, after_pk: int, limit: int
) -> list[tuple[int, str, str, str, str]]:
    """(pk, id, relpath, content_type, sha256) of rows past ``after_pk`` whose EXIF this
    reader has not read, in pk order (a walk on the rowid: no index needed)."""
    found = conn.execute(
        text(
            "SELECT pk, id, folder, filename, content_type, sha256 FROM images WHERE pk > :pk "
            "AND (exif_read IS NULL OR exif_read < :v) ORDER BY pk LIMIT :n"
        ),
        {"pk": after_pk, "v": READER_VERSION, "n": limit},
    )
    return [(pk, i, f"{f}/{n}" if f else n, ct, sha) for pk, i, f, n, ct, sha in found]


def tombstone(conn: Connection, image_id: str, now: int) -> None:
    """The row goes; its id stays known as deleted (``Gone``, never reused)."""
    conn.execute(text("DELETE FROM images WHERE id = :id"), {"id": image_id})
    conn.execute(
        text(
            pick(  # DIALECT
                conn,
                "INSERT OR REPLACE INTO tombstones (id, deleted_at) VALUES (:id, :now)",
                "INSERT INTO tombstones (id, deleted_at) VALUES (:id, :now) "
                "ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at",
            )
        ),
        {"id": image_id, "now": now},
    )


def tombstones(conn: Connection) -> list[tuple[str, int]]:
    """Every deleted id and when (trashed ones too: a trashed id answers 410 as well)."""
    found = conn.execute(text("SELECT id, deleted_at FROM tombstones ORDER BY id"))
    return [(image_id, at) for image_id, at in found]
