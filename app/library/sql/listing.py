"""Reading pages: listing, counting and search, written for 100,000 images.

The rules are ``filters.Filter.matches`` and ``filters.Sort.key``; this answers them
with indexes. Terms of three characters or more go through the trigram index; shorter
ones scan (correct, just slower). Both sides are folded in Python (``filters.fold``), so
the rule is Unicode-aware and the same in every path."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import Connection, text

from ..filters import ALL_FOLDERS, Filter, Sort, fold
from ..records import ImageRecord, folder_to_db
from .rows import RECORD_COLUMNS, record

_ORDER = {
    Sort.NEWEST: "created_at DESC, id DESC",
    Sort.OLDEST: "created_at ASC, id ASC",
    Sort.NAME: "filename COLLATE NOCASE ASC, id ASC",
}


# Rough costs in microseconds, measured at 100,000 images (benchmarks/bench_queries.py),
# for choosing how to read a page of search results:
#   "scan": walk the sort index, reading each row to test the term   → per row walked
#   "member": walk the sort index, testing each pk against the set of matches from the
#             trigram index                                          → per match + per row
#   "sort": read every match through the trigram index, sort them    → per match
_COST_SCAN_ROW = 0.6
_COST_MEMBER_MATCH = 0.5
_COST_MEMBER_ROW = 0.3
_COST_SORT_MATCH = 2.5
# Sorts that have a descending twin, for walking a deep page from the far end.
_REVERSED = {Sort.NEWEST: Sort.OLDEST, Sort.OLDEST: Sort.NEWEST}


# A search whose trigram cover (below) finds at most this many candidate rows is resolved
# to its exact matches once, and count and page both read that list.
RESOLVE_CAP = 500


def indexed_term(flt: Filter) -> str | None:
    """The folded term when the trigram index can answer it (3+ characters)."""
    if flt.search:
        term = fold(flt.search)
        if len(term) >= 3:
            return term
    return None


def where_clause(flt: Filter, plan: str = "sort") -> tuple[str, dict[str, object]]:
    """The WHERE clause. A term of 3+ characters is looked up in the trigram index
    (exact: both sides are folded and the index does not fold again); ``plan`` says how
    (see ``_search_plan``)."""
    clauses: list[str] = []
    params: dict[str, object] = {}
    if flt.folder is not ALL_FOLDERS:
        if flt.recursive:
            # "a/" <= folder < "a0": everything inside "a/", on the folder index.
            clauses.append("(folder = :folder OR (folder >= :lo AND folder < :hi))")
            params |= {"lo": f"{flt.folder}/", "hi": f"{flt.folder}0"}
        else:
            clauses.append("folder = :folder")
        params["folder"] = folder_to_db(flt.folder)
    if flt.undescribed:
        clauses.append("alt_text IS NULL")
    if flt.limit is not None:
        clause, limit_params = flt.limit.where()
        clauses.append(clause)
        params |= limit_params
    if flt.search:
        term = fold(flt.search)
        params["term"] = term
        # "+pk" stops SQLite driving the query from the matches (rowid lookups,
        # then a sort): it walks the sort index and tests membership instead.
        column = "+pk" if plan == "member" else "pk"
        if flt.matches_pks is not None and plan != "scan":
            params["matches"] = json.dumps(flt.matches_pks)
            clauses.append(f"{column} IN (SELECT value FROM json_each(:matches))")
        elif indexed_term(flt) is not None and plan != "scan":
            # DIALECT: FTS5's trigram tokenizer (SQLite). Another database answers this
            # clause with its own substring index (PostgreSQL: pg_trgm on search_text).
            params["fts"] = _fts_phrase(term)
            clauses.append(
                f"{column} IN (SELECT rowid FROM images_fts WHERE images_fts MATCH :fts)"
            )
        else:
            clauses.append("instr(search_text, :term) > 0")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _trigram_cover(term: str) -> str:
    """An FTS5 query for rows holding every trigram of a few that tile ``term``
    (``"sevilla catedral"``: ``sev ill a c ate dra ral``, 6 of its 14). Every row whose
    text contains the term matches it, so its rows are a superset of the matches. It is
    2-3× cheaper than the phrase: fewer doclists, no positions compared."""
    starts = list(range(0, len(term) - 2, 3))
    if starts[-1] != len(term) - 3:
        starts.append(len(term) - 3)  # the last trigram overlaps the one before it
    trigrams = dict.fromkeys(term[i : i + 3] for i in starts)
    return " AND ".join(_fts_phrase(t) for t in trigrams)


# One statement: the candidates (at most one over the cap, read once: MATERIALIZED), and
# when they are few, those whose text really contains the term, as a JSON list.
_RESOLVE_SQL = """
WITH candidates(pk) AS MATERIALIZED (
  SELECT rowid FROM images_fts WHERE images_fts MATCH :cover LIMIT :over)
SELECT (SELECT COUNT(*) FROM candidates),
  CASE WHEN (SELECT COUNT(*) FROM candidates) <= :cap THEN
    (SELECT json_group_array(pk) FROM images
     WHERE pk IN candidates AND instr(search_text, :term) > 0)
  END
"""


def resolve(conn: Connection, flt: Filter) -> Filter:
    """``flt`` with ``matches`` filled in when the term is rare enough to list.

    A long phrase of common words ("sevilla catedral": words each in 8% of 100,000
    rows, 121 rows with the phrase) makes the phrase query read the doclist of every one
    of its trigrams, once for the count and again for the page (≈ 3 ms each). Instead the
    trigram cover gives at most ``RESOLVE_CAP`` candidates (it stops reading there), which
    are confirmed against ``search_text`` with ``instr`` — the definition of a match — and
    count and page then read that list. A common term stops at the cap after reading a
    few hundred entries (≈ 0.3 ms) and is answered by the phrase as before."""
    term = indexed_term(flt)
    if term is None or flt.matches_pks is not None:
        return flt
    found, listed = conn.execute(
        text(_RESOLVE_SQL),
        {"cover": _trigram_cover(term), "over": RESOLVE_CAP + 1, "cap": RESOLVE_CAP, "term": term},
    ).one()
    if found > RESOLVE_CAP:
        return flt
    return replace(flt, matches_pks=tuple(sorted(json.loads(listed))))


def count(conn: Connection, flt: Filter) -> int:
    if flt.search is None:
        # Kept by triggers per folder: all images, and those without alt text (0003).
        column = "undescribed" if flt.undescribed else "count"
        if flt.limit is not None:
            return _limited_count(conn, flt, column)
        if flt.folder is ALL_FOLDERS:
            return _int(
                conn.execute(
                    text(f"SELECT COALESCE(SUM({column}), 0) FROM folder_counts")
                ).scalar_one()
            )
        if flt.recursive:
            # The folder and every folder below it: "a/" <= folder < "a0".
            return _int(
                conn.execute(
                    text(
                        f"SELECT COALESCE(SUM({column}), 0) FROM folder_counts "
                        "WHERE folder = :f OR (folder >= :lo AND folder < :hi)"
                    ),
                    {"f": flt.folder, "lo": f"{flt.folder}/", "hi": f"{flt.folder}0"},
                ).scalar_one()
            )
        return _int(
            conn.execute(
                text(f"SELECT COALESCE(SUM({column}), 0) FROM folder_counts WHERE folder = :f"),
                {"f": folder_to_db(flt.folder)},
            ).scalar_one()
        )
    unscoped = flt.folder is ALL_FOLDERS and not flt.undescribed and flt.limit is None
    if flt.matches_pks is not None and unscoped:
        return len(flt.matches_pks)
    term = indexed_term(flt)
    if term is not None and unscoped:
        # The index alone: no row is read (1-5 ms even when 10% of 100,000 match).
        return _int(
            conn.execute(
                text("SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH :fts"),
                {"fts": _fts_phrase(term)},
            ).scalar_one()
        )
    where, params = where_clause(flt)
    return _int(conn.execute(text(f"SELECT COUNT(*) FROM images{where}"), params).scalar_one())


def page(
    conn: Connection,
    flt: Filter,
    offset: int,
    limit: int,
    sort: Sort = Sort.NEWEST,
    total: int | None = None,
) -> list[ImageRecord]:
    """Rows ``offset`` to ``offset + limit`` of the filter, in ``sort`` order. ``total``
    (the filter's count, read in the same transaction) lets it choose the cheap way: a
    page past the middle walks the index from the other end, and a search for a common
    term walks the sort index instead of sorting every match."""
    if total is None:
        total = count(conn, flt)
    if offset >= total:
        return []
    flipped = _REVERSED.get(sort)
    plan = "sort"
    if indexed_term(flt) is not None:
        scope = Filter(
            folder=flt.folder, undescribed=flt.undescribed, recursive=flt.recursive, limit=flt.limit
        )
        in_scope = count(conn, scope)
        plan = _search_plan(offset, limit, total, in_scope, reversible=flipped is not None)
    where, params = where_clause(flt, plan)
    if flipped is not None and offset > total // 2:
        # The far end is nearer: read the page backwards from there, then turn it round.
        end = min(offset + limit, total)
        rows = _rows(conn, where, params, total - end, end - offset, flipped)
        rows.reverse()
        return rows
    return _rows(conn, where, params, offset, limit, sort)


def _search_plan(offset: int, limit: int, matches: int, in_scope: int, *, reversible: bool) -> str:
    """The cheapest way to a page of ``matches`` search results spread over ``in_scope``
    rows: a common term's first page is found by walking a few hundred rows, a rare
    term's by sorting its handful of matches."""
    start = min(offset, max(matches - offset - limit, 0)) if reversible else offset
    walked = min((start + limit) * in_scope / matches, in_scope)
    costs = {
        "scan": walked * _COST_SCAN_ROW,
        "member": matches * _COST_MEMBER_MATCH + walked * _COST_MEMBER_ROW,
        "sort": matches * _COST_SORT_MATCH,
    }
    return min(costs, key=costs.__getitem__)


def _rows(
    conn: Connection, where: str, params: dict[str, object], offset: int, limit: int, sort: Sort
) -> list[ImageRecord]:
    params = params | {"limit": limit, "offset": offset}
    # Page through the index on ids alone, then read the 25 rows: a deep OFFSET then walks
    # only the index, never the table.
    sql = (
        f"SELECT {RECORD_COLUMNS} FROM images WHERE pk IN (SELECT pk FROM images{where} "
        f"ORDER BY {_ORDER[sort]} LIMIT :limit OFFSET :offset) ORDER BY {_ORDER[sort]}"
    )
    return [record(r) for r in conn.execute(text(sql), params)]


def _limited_count(conn: Connection, flt: Filter, column: str) -> int:
    """A count within an API key's folders, from the per-folder counts (a few rows)."""
    assert flt.limit is not None
    where, params = where_clause(replace(flt, undescribed=False))
    return _int(
        conn.execute(
            text(f"SELECT COALESCE(SUM({column}), 0) FROM folder_counts{where}"), params
        ).scalar_one()
    )


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value
