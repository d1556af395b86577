"""Reading pages: listing, counting and search, written for 100,000 images.

The rules are ``filters.Filter.matches`` and ``filters.Sort.key``; this answers them
with indexes. Terms of three characters or more go through the trigram index; shorter
ones scan (correct, just slower). Both sides are folded in Python (``filters.fold``), so
the rule is Unicode-aware and the same in every path."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import Connection

from ..filters import ALL_FOLDERS, Filter, Sort, fold
from ..records import ImageRecord, folder_to_db
from . import meta_listing, order_marks, pg_search, pg_tokens, sqlite_search
from .dialect import is_pg, run
from .orders import ORDER, REVERSED
from .rows import RECORD_COLUMNS, record
from .search_plan import search_plan

_ORDER = ORDER


# The orders read backwards, for walking a deep page from the far end (a name page is
# read forwards here, as it always was; meta_listing reads it from either end).
_REVERSED = {s: REVERSED[s] for s in (Sort.NEWEST, Sort.OLDEST, Sort.TAKEN)}


# A search whose trigram cover (below) finds at most this many candidate rows is resolved
# to its exact matches once, and count and page both read that list.
RESOLVE_CAP = 500
# A common term and common meta values (neither resolved) are resolved to the images
# they have in common when at most this many (a JSON list a count and a page read).
SEARCH_AMONG_CAP = 5000
# With the term's trigram cover (SQLite), at most this many candidates in common are
# confirmed one by one, each a read of its row (≈ 0.6 µs while the rows stay in
# SQLite's page cache; 3,960 of them took ≈ 3 ms more than the phrase's positions,
# which cost ≈ 0.14 µs more than the cover per match of the whole library). Past the
# cap the phrase is merged instead, as before the cover.
CONFIRM_CAP = 1000


def indexed_term(flt: Filter) -> str | None:
    """The folded term when the trigram index can answer it (3+ characters, none of the
    Private Use Area, whose trigrams in ``images_fts`` may be meta values' tags:
    migration 0023; such a term scans, exact)."""
    if flt.search:
        term = fold(flt.search)
        if len(term) >= 3 and not any("\ue000" <= c <= "\uf8ff" for c in term):
            return term
    return None


# An ids filter's clause (at most 100 ids, each found through the unique index on id);
# ``keyset`` also reads those rows first with it on PostgreSQL.
IDS_CLAUSE = "id IN (SELECT value FROM json_each(:ids))"


def where_clause(
    flt: Filter,
    plan: str = "sort",
    *,
    walk: bool = False,
    pg: bool = False,
) -> tuple[str, dict[str, object]]:
    """The WHERE clause. A term of 3+ characters is looked up in the trigram index
    (exact: both sides are folded and the index does not fold again); ``plan`` says how
    (see ``search_plan``). ``walk``: a page read by walking the sort's index, so a
    folder subtree is tested row by row rather than gathered from the folder index and
    sorted (``walks_subtree``). A meta filter in ``newest``/``oldest`` order is read
    from ``image_metadata`` instead (``meta_listing``)."""
    clauses: list[str] = []
    params: dict[str, object] = {}
    if flt.folder is not ALL_FOLDERS:
        if flt.recursive:
            # "a/" <= folder < "a0": everything inside "a/", on the folder index (or,
            # "+folder", tested on each row of the sort's index).
            f = "+folder" if walk else "folder"
            clauses.append(f"({f} = :folder OR ({f} >= :lo AND {f} < :hi))")
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
    if flt.ids is not None:
        clauses.append(IDS_CLAUSE)
        params["ids"] = json.dumps(flt.ids)
    if flt.meta_pks is not None:
        clauses.append("pk IN (SELECT value FROM json_each(:meta_pks))")
        params["meta_pks"] = json.dumps(flt.meta_pks)
    else:
        # Common values: tested on each row walked (one probe of a narrow index).
        for n, meta in enumerate(flt.meta):
            cond = meta_listing.condition(meta, n, params, "m")
            clauses.append(
                f"EXISTS (SELECT 1 FROM image_metadata m {meta_listing.PROBE} "
                f"WHERE m.image_pk = images.pk AND {cond})"
            )
    if flt.search:
        term = fold(flt.search)
        params["term"] = term
        # "+pk" stops SQLite driving the query from the matches (rowid lookups,
        # then a sort): it walks the sort index and tests membership instead.
        column = "+pk" if plan == "member" else "pk"
        if flt.matches_pks is not None and plan != "scan":
            params["matches"] = json.dumps(flt.matches_pks)
            clauses.append(f"{column} IN (SELECT value FROM json_each(:matches))")
        elif indexed_term(flt) is not None and plan != "scan" and pg:
            # DIALECT (PostgreSQL): the words holding the term, or pg_trgm's GIN index
            # answering a literal LIKE ('%' and '_' escaped); both sides are folded, so it
            # is exact (pg_search).
            params |= pg_search.params(term)
            clauses.append(f"{column} IN ({pg_search.matches(term)})")
        elif indexed_term(flt) is not None and plan != "scan":
            # DIALECT: the words or FTS5's trigram index (SQLite: sqlite_search). Another
            # database answers this clause with its own (PostgreSQL: pg_search).
            matches, matches_params = sqlite_search.matches(term, flt.term_words)
            params |= matches_params
            clauses.append(f"{column} IN ({matches})")
        else:
            clauses.append("instr(search_text, :term) > 0")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def walks_subtree(conn: Connection, flt: Filter) -> bool:
    """Whether a page of a recursive folder filter should walk the sort's index, testing
    the folder of each row, rather than gather the subtree from the folder index and sort
    it: when the subtree holds at least 2% of the library, a page is found within ~1,250
    rows walked, cheaper than sorting its thousands."""
    if not flt.recursive or flt.folder is ALL_FOLDERS:
        return False
    scope = Filter(folder=flt.folder, recursive=True)
    return count(conn, scope) * 50 >= count(conn, Filter())


def _search_of(conn: Connection, flt: Filter) -> tuple[str, dict[str, object]] | None:
    """The search as a test of ``m0.image_pk``'s membership in the substring index's
    matches, when the index can answer it (``meta_listing``)."""
    term = indexed_term(flt)
    if term is None:
        return None
    if is_pg(conn):  # DIALECT: pg_trgm's index answers the literal LIKE
        return pg_search.matches(term), pg_search.params(term)
    return sqlite_search.matches(term, flt.term_words)  # DIALECT: the words or FTS5's


# One statement: the cover's candidates and, when they are few, the exact matches.
_RESOLVE_SQL = meta_listing.CONFIRMED_SQL.format(
    candidates="SELECT rowid FROM images_fts WHERE images_fts MATCH :cover LIMIT :over",
    order="pk",
)


def resolve(conn: Connection, flt: Filter, sort: Sort | None = None) -> Filter:
    """``flt`` with ``matches`` filled in when the term is rare enough to list.

    A long phrase of common words ("sevilla catedral": words each in 8% of 100,000
    rows, 121 rows with the phrase) makes the phrase query read the doclist of every one
    of its trigrams, once for the count and again for the page (≈ 3 ms each). Instead the
    trigram cover gives at most ``RESOLVE_CAP`` candidates (it stops reading there), which
    are confirmed against ``search_text`` with ``instr`` — the definition of a match — and
    count and page then read that list. A common term stops at the cap after reading a
    few hundred entries (≈ 0.3 ms) and is answered by the phrase as before — or, with
    common ``meta.KEY=VALUE`` values, by the images term and values have in common
    (``meta_listing.search_among``): without them a count tested each of a value's
    10,000 images against the term's 8,000 matches, and a deep page nearly as many.

    ``sort``: the order a page-number page will be read in (not for a cursor's walk,
    which tests membership): those in common are then listed in it (SQLite), and the
    page is a slice of them, read by pk (``meta_listing.page``)."""
    if flt.meta and flt.meta_pks is None:
        tokens = _tokens_among(conn, flt, _search_of(conn, flt), sort)
        flt = meta_listing.resolve_meta(conn, flt, tokens)
    else:
        tokens = None
    term = indexed_term(flt)
    if term is None or flt.matches_pks is not None:
        return flt
    common = bool(flt.meta) and flt.meta_pks is None
    if common and is_pg(conn):
        # DIALECT (PostgreSQL): common values, the images they have in common with the
        # term first (one pass of the trigram index, rare term or common), not after a
        # probe for the term's first 501 matches (1.3 ms) that could only say "common".
        # With a term within one word resolve_meta asked the images' tokens already
        # (more than the cap in common, or it would have listed them).
        met = flt if tokens is not None else _phrase_among(conn, flt, sort)
        return met if met.matches_pks is not None else _resolve_search(conn, flt, term)
    if common:
        # Common values and any term: the images they have in common, from the term's
        # trigram cover, confirmed, when few (SQLite; ``CONFIRM_CAP``).
        cap = min(CONFIRM_CAP, SEARCH_AMONG_CAP)
        order = ORDER[sort] if sort is not None else "pk"
        # The values' tags and the cover's first trigram alone first: each trigram more
        # is a doclist read whole (≈ 0.35 ms for 7,925 entries at 100,000 images) where
        # the values' tags have already narrowed the candidates to a few hundred, each
        # confirmed for ≈ 1.3 µs. Over the cap, the whole cover, as before (the first
        # pass stopped reading at the cap).
        among = meta_listing.search_among(
            conn, flt, sqlite_search.cover_of(term, narrow=True), cap, term, order
        )
        if among is None and len(term) > 3:
            among = meta_listing.search_among(
                conn, flt, sqlite_search.cover_of(term), cap, term, order
            )
        if among is not None:
            return replace(
                flt, matches_pks=tuple(among), matches_among_meta=True, matches_sort=sort
            )
        flt = _with_words(conn, flt, term)  # the ways below read them (SQLite)
        if cap >= RESOLVE_CAP:  # the cover alone has more: not a rare term
            return _phrase_among(conn, flt)
    elif not is_pg(conn):
        flt = _with_words(conn, flt, term)
    found = _resolve_search(conn, flt, term)
    if found.matches_pks is None and common:
        return _phrase_among(conn, flt)
    return found


def _with_words(conn: Connection, flt: Filter, term: str) -> Filter:
    """DIALECT (SQLite): ``flt`` with the words holding the term, when they answer it.
    Looked up only where a count or a membership test will read them: common values
    with a term are first found from the term's cover (≈ 0.1 ms saved there)."""
    if flt.term_words is not None:
        return flt
    return replace(flt, term_words=sqlite_search.words_of(conn, term))


def _phrase_among(conn: Connection, flt: Filter, sort: Sort | None = None) -> Filter:
    """A common term and common values: their images in common, when few enough; listed
    in ``sort`` (a page's: the page is then a slice) when the images' tokens answer
    them (PostgreSQL, a term within one word: ``pg_tokens``), which read their rows."""
    search = _search_of(conn, flt)
    assert search is not None
    tokens = _tokens_among(conn, flt, search, sort)
    if tokens is not None:
        among = pg_tokens.among(conn, flt, tokens)
    else:
        sort = None
        among = meta_listing.search_among(conn, flt, search, SEARCH_AMONG_CAP)
    if among is not None:
        return replace(flt, matches_pks=tuple(among), matches_among_meta=True, matches_sort=sort)
    return flt


def _tokens_among(
    conn: Connection, flt: Filter, search: tuple[str, dict[str, object]] | None, sort: Sort | None
) -> pg_tokens.Among | None:
    """DIALECT (PostgreSQL): what the images' tokens (migration 0025) are asked for the
    images a term within one word and the meta values have in common; ``None`` when
    they cannot answer (SQLite, a phrase, no indexed term)."""
    if search is None or not is_pg(conn) or not pg_tokens.answers(search):
        return None
    return pg_tokens.Among(str(search[1]["like"]), SEARCH_AMONG_CAP, sort)


def _resolve_search(conn: Connection, flt: Filter, term: str) -> Filter:
    """``flt`` with the term's exact matches when the trigram cover finds at most
    ``RESOLVE_CAP`` candidates (``resolve``); from the words when they answer it (SQLite),
    with their number in the whole library (``matches_count``) too."""
    if is_pg(conn):  # DIALECT: the trigram index's matches are exact here (LIKE)
        return _resolve_pg(conn, flt, term)
    if flt.term_words is not None:  # the words' images: counted, and listed when few
        found, pks, library = sqlite_search.count_and_list(conn, flt.term_words, RESOLVE_CAP)
        flt = replace(flt, matches_count=found, library_count=library)
        return flt if pks is None else replace(flt, matches_pks=tuple(pks))
    found, listed = tuple(
        run(
            conn,
            _RESOLVE_SQL,
            {
                "cover": sqlite_search.trigram_cover(term),
                "over": RESOLVE_CAP + 1,
                "cap": RESOLVE_CAP,
                "term": term,
            },
        ).one()
    )
    if found > RESOLVE_CAP:
        return flt
    return replace(flt, matches_pks=tuple(json.loads(listed)))


def _resolve_pg(conn: Connection, flt: Filter, term: str) -> Filter:
    """``resolve`` on PostgreSQL. A search of the whole library is counted here, once
    (``matches_count``, which ``count`` then answers with), and its matches listed when
    few. Within a folder, a meta filter or ids, what counts is the scope's share, which
    ``count`` reads: here the matches are only listed when there are few, found by reading
    at most one more than the cap."""
    if flt.unscoped and not flt.meta and flt.ids is None:
        found, listed, library = pg_search.count_and_list(conn, term, RESOLVE_CAP)
        flt = replace(flt, matches_count=found, library_count=library)
        return flt if listed is None else replace(flt, matches_pks=tuple(listed))
    listed_pks = pg_search.first_matches(conn, term, RESOLVE_CAP + 1)
    if len(listed_pks) > RESOLVE_CAP:
        return flt
    return replace(flt, matches_pks=tuple(listed_pks))


def count(conn: Connection, flt: Filter) -> int:
    if flt.meta_count is not None:  # read with the values' counts (resolve, PostgreSQL)
        return flt.meta_count
    if flt.meta and flt.meta_pks is None and flt.ids is None:
        # Common values: counted in image_metadata's own indexes (meta_listing).
        return meta_listing.count(conn, flt, _search_of(conn, flt))
    if flt.ids is not None or flt.meta:
        where, params = where_clause(flt, pg=is_pg(conn))
        return _int(run(conn, (f"SELECT COUNT(*) FROM images{where}"), params).scalar_one())
    if flt.search is None:
        # Kept by triggers per folder: all images, and those without alt text (0003).
        column = "undescribed" if flt.undescribed else "count"
        if flt.limit is not None:
            return _limited_count(conn, flt, column)
        if flt.folder is ALL_FOLDERS:
            return _int(
                run(conn, (f"SELECT COALESCE(SUM({column}), 0) FROM folder_counts")).scalar_one()
            )
        if flt.recursive:
            # The folder and every folder below it: "a/" <= folder < "a0".
            return _int(
                run(
                    conn,
                    (
                        f"SELECT COALESCE(SUM({column}), 0) FROM folder_counts "
                        "WHERE folder = :f OR (folder >= :lo AND folder < :hi)"
                    ),
                    {"f": flt.folder, "lo": f"{flt.folder}/", "hi": f"{flt.folder}0"},
                ).scalar_one()
            )
        return _int(
            run(
                conn,
                (f"SELECT COALESCE(SUM({column}), 0) FROM folder_counts WHERE folder = :f"),
                {"f": folder_to_db(flt.folder)},
            ).scalar_one()
        )
    if flt.matches_pks is not None and flt.unscoped:
        return len(flt.matches_pks)
    if flt.matches_count is not None and flt.unscoped:
        return flt.matches_count
    term = indexed_term(flt)
    if term is not None and flt.unscoped:
        # The index alone: no row is read (1-5 ms even when 10% of 100,000 match).
        if is_pg(conn):  # DIALECT: the words holding it, or pg_trgm's index re-checked
            return pg_search.count_and_list(conn, term, -1).found
        return sqlite_search.count(conn, term, flt.term_words)
    where, params = where_clause(flt, pg=is_pg(conn))
    return _int(run(conn, (f"SELECT COUNT(*) FROM images{where}"), params).scalar_one())


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
    if is_pg(conn) and order_marks.applies(flt, sort, offset, limit, total):
        # DIALECT (PostgreSQL): a deep page of the whole library, from its range (0022).
        # Short only when images were removed since ``total`` was counted (another
        # snapshot): then walked as below, which answers that moment as it always did.
        marked = order_marks.page(conn, sort, offset, limit, total)
        if len(marked) == min(offset + limit, total) - offset:
            return marked
    if meta_listing.applies(flt, sort):
        search = _search_of(conn, flt)
        return meta_listing.page(conn, flt, offset, limit, sort, total, search)
    # DIALECT (PostgreSQL): a name page too (its index walks backwards there, the name
    # key being an expression, not a collation): the last page read 100,000 entries.
    flipped = REVERSED[sort] if sort is Sort.NAME and is_pg(conn) else _REVERSED.get(sort)
    plan = "sort"
    if indexed_term(flt) is not None:
        scope = Filter(
            folder=flt.folder, undescribed=flt.undescribed, recursive=flt.recursive, limit=flt.limit
        )
        # The whole library's number, when resolve read it with the term's (PostgreSQL).
        known = flt.library_count if flt.unscoped else None
        in_scope = known if known is not None else count(conn, scope)
        plan = search_plan(offset, limit, total, in_scope, reversible=flipped is not None)
    where, params = where_clause(flt, plan, walk=walks_subtree(conn, flt), pg=is_pg(conn))
    if flipped is not None and offset > total // 2:
        # The far end is nearer: read the page backwards from there, then turn it round.
        end = min(offset + limit, total)
        rows = _rows(conn, where, params, total - end, end - offset, flipped)
        rows.reverse()
        return rows
    return _rows(conn, where, params, offset, limit, sort)


def _rows(
    conn: Connection,
    where: str,
    params: dict[str, object],
    offset: int,
    limit: int,
    sort: Sort | str,
) -> list[ImageRecord]:
    """``sort``: a ``Sort``, or an ORDER BY clause (one of ``_REVERSED``)."""
    order = _ORDER[sort] if isinstance(sort, Sort) else sort
    params = params | {"limit": limit, "offset": offset}
    # Page through the index on ids alone, then read the 25 rows: a deep OFFSET then walks
    # only the index, never the table.
    sql = (
        f"SELECT {RECORD_COLUMNS} FROM images WHERE pk IN (SELECT pk FROM images{where} "
        f"ORDER BY {order} LIMIT :limit OFFSET :offset) ORDER BY {order}"
    )
    return [record(r) for r in run(conn, (sql), params)]


def _limited_count(conn: Connection, flt: Filter, column: str) -> int:
    """A count within an API key's folders, from the per-folder counts (a few rows)."""
    assert flt.limit is not None
    where, params = where_clause(replace(flt, undescribed=False), pg=is_pg(conn))
    return _int(
        run(
            conn, (f"SELECT COALESCE(SUM({column}), 0) FROM folder_counts{where}"), params
        ).scalar_one()
    )


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value
