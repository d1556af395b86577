"""Reading the library: pages, search and folders, written for 100,000 images.

Search is a literal, case-insensitive substring of filename, original filename or alt
text. Terms of three characters or more go through the trigram index; shorter ones scan
(correct, just slower). Both sides are case-folded in Python, so the rule is Unicode-aware
and the same in every path."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, text

from .records import ImageRecord, folder_to_db

SEARCH_FIELD_SEPARATOR = "\x1f"  # a control character: never inside any searched field


def search_text(filename: str, original_filename: str, alt_text: str | None) -> str:
    return SEARCH_FIELD_SEPARATOR.join((filename, original_filename, alt_text or "")).casefold()


class Sort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    NAME = "name"


_ORDER = {
    Sort.NEWEST: "created_at DESC, id DESC",
    Sort.OLDEST: "created_at ASC, id ASC",
    Sort.NAME: "filename COLLATE NOCASE ASC, id ASC",
}


class _All:
    def __repr__(self) -> str:
        return "ALL_FOLDERS"


ALL_FOLDERS: object = _All()


@dataclass(frozen=True)
class Filter:
    folder: object = ALL_FOLDERS  # ALL_FOLDERS, or a folder (None = the root only)
    search: str | None = None
    undescribed: bool = False

    def where(self) -> tuple[str, dict[str, object]]:
        clauses: list[str] = []
        params: dict[str, object] = {}
        if self.folder is not ALL_FOLDERS:
            clauses.append("folder = :folder")
            params["folder"] = folder_to_db(self.folder)  # type: ignore[arg-type]
        if self.undescribed:
            clauses.append("alt_text IS NULL")
        if self.search:
            term = self.search.casefold()
            params["term"] = term
            if len(term) >= 3:
                params["fts"] = '"' + term.replace('"', '""') + '"'
                clauses.append("pk IN (SELECT rowid FROM images_fts WHERE images_fts MATCH :fts)")
            clauses.append("instr(search_text, :term) > 0")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def count(conn: Connection, flt: Filter) -> int:
    if flt.search is None and not flt.undescribed:
        if flt.folder is ALL_FOLDERS:
            return conn.execute(
                text("SELECT COALESCE(SUM(count), 0) FROM folder_counts")
            ).scalar_one()
        return conn.execute(
            text("SELECT COALESCE(SUM(count), 0) FROM folder_counts WHERE folder = :f"),
            {"f": folder_to_db(flt.folder)},  # type: ignore[arg-type]
        ).scalar_one()
    where, params = flt.where()
    return conn.execute(text(f"SELECT COUNT(*) FROM images{where}"), params).scalar_one()


def page(
    conn: Connection, flt: Filter, offset: int, limit: int, sort: Sort = Sort.NEWEST
) -> list[ImageRecord]:
    where, params = flt.where()
    params |= {"limit": limit, "offset": offset}
    # Page through the index on ids alone, then read the 25 rows: a deep OFFSET then walks
    # only the index, never the table.
    sql = (
        f"SELECT * FROM images WHERE pk IN (SELECT pk FROM images{where} "
        f"ORDER BY {_ORDER[sort]} LIMIT :limit OFFSET :offset) ORDER BY {_ORDER[sort]}"
    )
    return [ImageRecord.from_row(r) for r in conn.execute(text(sql), params)]
