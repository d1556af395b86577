"""The per-library bookkeeping ``imageshelf migrate`` carries over beside the images
(``library_copy.py``), row for row with its keys: API keys (names, scopes, the folders
each is limited to, expiry, last use; the SHA-256 of each secret, so every key in use
goes on working and no secret is ever read), share links with their images and
password hashes (every link given out goes on working), download jobs with their lists
(a prepared one is prepared again there from the same image ids, since its frozen list
holds each file's size and time in the source's storage), and idempotency answers
already given (a retry after the move still gets the same answer; a claim still running
is not carried).

Not carried: the change log (its numbers belong to the source: a ``GET /v3/events``
reader starts again from the destination's), the files the watcher was told to ignore
(they name the source folder's files), the source's API token (a folder library keeps
it in its folder; a team library's is ``$IMAGESHELF_API_TOKEN``).

A row the destination already has (same key) is left as it is, so a second run adds
only what is new. Each table is one transaction, parents before children."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite

from .library import Library
from .models import Base

# (table, only these rows): parents before children.
_TABLES: tuple[tuple[str, str | None], ...] = (
    ("api_keys", None),
    ("shares", None),
    ("share_images", None),
    ("download_jobs", None),
    ("download_entries", None),
    ("idempotency_keys", "status"),  # answered ones only: status IS NOT NULL
)


def copy_rows(src: Library, dst: Library) -> dict[str, int]:
    """Copies the tables above; returns, per table, the rows the destination did not
    have yet."""
    copied: dict[str, int] = {}
    for name, needed in _TABLES:
        table = Base.metadata.tables[name]
        query = select(table)
        if needed is not None:
            query = query.where(table.c[needed].isnot(None))
        with src.core.read() as conn:
            found = [dict(row._mapping) for row in conn.execute(query)]
        if "owner" in table.c:  # a team process's mark: meaningless elsewhere
            for row in found:
                row["owner"] = None
        if name == "download_jobs":  # prepared again from the destination's files
            for row in found:
                if row["status"] == "READY":
                    row["status"] = "PENDING"
        copied[name] = _insert_new(dst, table, found)
    if copied.get("download_jobs"):  # owned by no process there: prepared now
        if dst.team:
            dst.recover_dead_owners()
        else:
            dst.downloads.resume()
    return copied


def _insert_new(dst: Library, table: Table, found: list[dict[str, Any]]) -> int:
    if not found:
        return 0
    with dst.core.write() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite  # DIALECT
        # RETURNING tells a new row from one already there (rowcount is -1 with psycopg).
        statement = (
            dialect.insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
        )
        done = 0
        for row in found:
            done += conn.execute(statement, row).first() is not None
    return done
