"""Every statement on download jobs and their frozen entries (migration 0010)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from ..records import folder_to_db
from . import owners

# SQLite allows 32,766 parameters a statement; ids are looked up this many at a time.
_IDS_PER_QUERY = 500


@dataclass(frozen=True, slots=True)
class Source:
    """An image's file as the frozen list records it."""

    image_id: str
    folder: str  # "" for the root, as in the table
    filename: str
    size: int
    mtime_ns: int
    sha256: str

    @property
    def relpath(self) -> str:
        return f"{self.folder}/{self.filename}" if self.folder else self.filename


@dataclass(frozen=True, slots=True)
class EntryRow:
    position: int
    image_id: str
    relpath: str
    name: str
    size: int
    mtime_ns: int
    sha256: str
    crc32: int | None


@dataclass(frozen=True, slots=True)
class JobRow:
    id: str
    status: str
    error: str | None
    count: int
    size: int | None
    missing: list[str]
    created_at: int
    expires_at: int


_SOURCE_COLUMNS = "id, folder, filename, size, mtime_ns, sha256"


def _source(row: Sequence[Any]) -> Source:
    return Source(row[0], row[1], row[2], row[3], row[4], row[5])


def sources_by_id(conn: Connection, image_ids: Sequence[str]) -> dict[str, Source]:
    """The live images among ``image_ids`` (trashed, purged and unknown ones absent)."""
    found: dict[str, Source] = {}
    for start in range(0, len(image_ids), _IDS_PER_QUERY):
        chunk = list(image_ids[start : start + _IDS_PER_QUERY])
        marks = ", ".join(f":i{n}" for n in range(len(chunk)))
        rows = conn.execute(
            text(f"SELECT {_SOURCE_COLUMNS} FROM images WHERE id IN ({marks})"),
            {f"i{n}": image_id for n, image_id in enumerate(chunk)},
        )
        for row in rows:
            found[row[0]] = _source(row)
    return found


def sources_in_folder(
    conn: Connection, folder: str | None, recursive: bool, limit: int
) -> list[Source]:
    """The images of ``folder`` (and below it with ``recursive``) by path, at most
    ``limit`` of them (the caller asks for one more to tell "too many")."""
    f = folder_to_db(folder)
    if recursive and not f:
        where, args = "1 = 1", {}  # a boolean on every dialect (PostgreSQL refuses "1")
    elif recursive:
        # The folder itself, then everything under "f/" ("0" sorts right after "/").
        where = "(folder = :f OR (folder >= :lo AND folder < :hi))"
        args = {"f": f, "lo": f + "/", "hi": f + "0"}
    else:
        where, args = "folder = :f", {"f": f}
    rows = conn.execute(
        text(
            f"SELECT {_SOURCE_COLUMNS} FROM images WHERE {where} "
            "ORDER BY folder, filename LIMIT :limit"
        ),
        {**args, "limit": limit},
    )
    return [_source(row) for row in rows]


def insert_job(conn: Connection, job: JobRow, entries: Iterable[EntryRow]) -> None:
    conn.execute(
        text(
            "INSERT INTO download_jobs (id, status, error, count, size, missing, created_at, "
            "expires_at, owner) VALUES (:id, :status, :error, :count, :size, :missing, "
            ":created, :expires, :owner)"
        ),
        {
            "owner": owners.owner_of(conn),
            "id": job.id,
            "status": job.status,
            "error": job.error,
            "count": job.count,
            "size": job.size,
            "missing": json.dumps(job.missing),
            "created": job.created_at,
            "expires": job.expires_at,
        },
    )
    params = [_entry_params(job.id, e) for e in entries]
    if params:
        conn.execute(
            text(
                "INSERT INTO download_entries (job_id, position, image_id, relpath, name, "
                "size, mtime_ns, sha256, crc32) VALUES (:job, :position, :image_id, :relpath, "
                ":name, :size, :mtime_ns, :sha256, :crc32)"
            ),
            params,
        )


def _entry_params(job_id: str, e: EntryRow) -> dict[str, Any]:
    return {
        "job": job_id,
        "position": e.position,
        "image_id": e.image_id,
        "relpath": e.relpath,
        "name": e.name,
        "size": e.size,
        "mtime_ns": e.mtime_ns,
        "sha256": e.sha256,
        "crc32": e.crc32,
    }


def _job(row: Sequence[Any]) -> JobRow:
    return JobRow(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7])


def get_job(conn: Connection, job_id: str) -> JobRow | None:
    row = conn.execute(
        text(
            "SELECT id, status, error, count, size, missing, created_at, expires_at "
            "FROM download_jobs WHERE id = :id"
        ),
        {"id": job_id},
    ).first()
    return None if row is None else _job(row)


def unfinished_jobs(conn: Connection) -> list[tuple[str, int | None]]:
    """(id, owner) of the jobs not prepared yet, oldest first."""
    rows = conn.execute(
        text(
            "SELECT id, owner FROM download_jobs WHERE status IN ('PENDING', 'PROCESSING') "
            "ORDER BY created_at"
        )
    )
    return [(row[0], row[1]) for row in rows]


def take_over(conn: Connection, job_id: str, before: int | None) -> bool:
    """The job is this process's now, if it still belonged to ``before`` (a dead owner):
    of two processes recovering it at once, one wins."""
    held = "owner IS NULL" if before is None else "owner = :before"
    done = conn.execute(
        text(
            "UPDATE download_jobs SET owner = :me WHERE id = :id "
            f"AND status IN ('PENDING', 'PROCESSING') AND {held}"
        ),
        {"me": owners.owner_of(conn), "id": job_id, "before": before},
    )
    return bool(done.rowcount)


def entries(conn: Connection, job_id: str) -> list[EntryRow]:
    rows = conn.execute(
        text(
            "SELECT position, image_id, relpath, name, size, mtime_ns, sha256, crc32 "
            "FROM download_entries WHERE job_id = :job ORDER BY position"
        ),
        {"job": job_id},
    )
    return [EntryRow(*row) for row in rows]


def set_status(conn: Connection, job_id: str, status: str, error: str | None = None) -> None:
    conn.execute(
        text("UPDATE download_jobs SET status = :s, error = :e WHERE id = :id"),
        {"s": status, "e": error, "id": job_id},
    )


def finish(
    conn: Connection,
    job_id: str,
    prepared: Sequence[EntryRow],
    dropped: Sequence[EntryRow],
    missing: list[str],
    size: int,
) -> None:
    """The job READY: each entry as read (size, mtime, hash, CRC-32), the vanished ones
    out of the list and into ``missing``, the archive's size."""
    if prepared:
        conn.execute(
            text(
                "UPDATE download_entries SET size = :size, mtime_ns = :mtime_ns, "
                "sha256 = :sha256, crc32 = :crc32 WHERE job_id = :job AND position = :position"
            ),
            [_entry_params(job_id, e) for e in prepared],
        )
    if dropped:
        conn.execute(
            text("DELETE FROM download_entries WHERE job_id = :job AND position = :position"),
            [{"job": job_id, "position": e.position} for e in dropped],
        )
    conn.execute(
        text(
            "UPDATE download_jobs SET status = 'READY', error = NULL, size = :size, "
            "count = :count, missing = :missing WHERE id = :id"
        ),
        {"size": size, "count": len(prepared), "missing": json.dumps(missing), "id": job_id},
    )


def expire(conn: Connection, now: int, tombstone_us: int) -> list[str]:
    """Entries of expired jobs dropped (their ``missing`` too); rows expired for longer
    than ``tombstone_us`` deleted. Returns the ids that expired now."""
    expired = [
        row[0]
        for row in conn.execute(
            text("SELECT id FROM download_jobs WHERE expires_at <= :now AND missing != '[]'"),
            {"now": now},
        )
    ]
    expired += [
        row[0]
        for row in conn.execute(
            text(
                "SELECT DISTINCT e.job_id FROM download_entries e "
                "JOIN download_jobs j ON j.id = e.job_id WHERE j.expires_at <= :now"
            ),
            {"now": now},
        )
    ]
    conn.execute(
        text(
            "DELETE FROM download_entries WHERE job_id IN "
            "(SELECT id FROM download_jobs WHERE expires_at <= :now)"
        ),
        {"now": now},
    )
    conn.execute(
        text("UPDATE download_jobs SET missing = '[]' WHERE expires_at <= :now"), {"now": now}
    )
    conn.execute(
        text("DELETE FROM download_jobs WHERE expires_at <= :old"), {"old": now - tombstone_us}
    )
    return sorted(set(expired))
