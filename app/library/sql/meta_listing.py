"""``meta.KEY=VALUE`` listings read from ``image_metadata``'s own order (migrations 0014,
0018).

Each row of ``image_metadata`` carries its image's folder, created_at, id, filename and
taken_at, so one value's images in any sort are a range of that sort's index
(``ix_image_metadata_order``, ``…_name``, ``…_taken``; in one folder: ``…_folder_…``).
A page, however deep, and a count walk that index and never the images table; only the
page's rows are read from ``images``. The other filters are tested on each entry walked:
a subtree, an API key's folders and ``undescribed`` on the entry itself (the index
carries them), another meta filter by one probe of a narrow index, a search by one probe
of ``images`` (a first page) or by membership in the trigram index's matches (a count, a
deeper page).

The rule each filter stands for is ``filters.Filter.matches``; the SQL here must keep
the same images as ``listing.where_clause`` (``tests/library/test_filters_agree.py``).

The filter walked ("the lead") is the one with the fewest images (``listing.resolve``
counts them), and only the readings of its value that some image has (``12`` as a
number, as text): usually one, so the walk is one range. Two or more are merged in
order (a compound SELECT with ORDER BY, which SQLite reads as a merge of ordered ranges,
never a sort)."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import Connection

from ..custom_metadata import MetaFilter
from ..exif_facts import TAKEN_SORT_SQL
from ..filters import ALL_FOLDERS, Filter, Sort, fold
from ..records import ImageRecord, folder_to_db
from . import meta_tags, orders, pg_meta_counts, pg_tokens
from .dialect import is_pg, pick, run
from .rows import RECORD_COLUMNS, record

# Every sort: image_metadata carries each one's key (0014: created_at, id; 0018:
# filename, taken_at) and has an index per order, whole and per folder.
ORDER = orders.ORDER
_REVERSED = orders.REVERSED
# A compound SELECT is ordered by its result columns only: each sort key as one, named
# (the keys' SQL as ORDER spells it; keys of one column keep their own name).
_KEYS = {
    "name_key": "filename COLLATE NOCASE",
    "taken_key": TAKEN_SORT_SQL,
    "created_at": "created_at",
    "id": "id",
}

# A search as a query of the pks matching it, and that query's parameters.
Search = tuple[str, dict[str, object]]

# The readings of a filter's value, each one range of the (key, kind, value) indexes.
KINDS = ("text", "number", "boolean")

# DIALECT: SQLite's INDEXED BY (dialect.run drops it on PostgreSQL). The test of one
# image for a filter reads this narrow index (image_pk, key, kind, value), not the
# table's wide rows, which SQLite's planner would pick (its primary key) and which at
# 100,000 images miss the page cache when probed in an order other than their own
# (migration 0014).
PROBE = "INDEXED BY ix_image_metadata_probe"


def applies(flt: Filter, sort: Sort) -> bool:
    """Whether a page of ``flt`` in ``sort`` is read here: a meta filter (in any sort).
    (``ids`` narrows to at most 100 images: the images' id index is the cheaper way in.)"""
    return bool(flt.meta) and flt.ids is None and sort in ORDER


def condition(meta: MetaFilter, n: int, params: dict[str, object], alias: str) -> str:
    """``meta.KEY=VALUE`` on ``image_metadata`` rows (``alias``): each reading of
    ``VALUE`` (the string; the number or boolean it reads as) is one range of the
    ``(key, kind, value)`` indexes. ``custom_metadata.MetaFilter.matches`` is the rule."""
    kinds = [f"({r})" for r in ranges(meta, n, params, alias, with_key=False)]
    return f"{alias}.key = :mk{n} AND ({' OR '.join(kinds)})"


def ranges(
    meta: MetaFilter,
    n: int,
    params: dict[str, object],
    alias: str = "",
    kinds: tuple[str, ...] = KINDS,
    *,
    with_key: bool = True,
) -> list[str]:
    """``meta.KEY=VALUE`` as index ranges of ``image_metadata`` (``alias``: the table's,
    ``""`` for none), one per reading of the value among ``kinds``, disjoint (an OR of
    them is merged through a temporary row set, 7 ms instead of 1 at 10,000 entries:
    read them one by one). ``with_key=False``: the kind and value tests alone."""
    params[f"mk{n}"] = meta.key
    a = f"{alias}." if alias else ""
    readings = {"text": meta.text, "number": meta.number, "boolean": meta.boolean}
    out = []
    for kind, value in readings.items():
        if value is None or kind not in kinds:
            continue
        name = f"m{kind[0]}{n}"
        params[name] = int(value) if kind == "boolean" else value
        test = f"{a}kind = '{kind}' AND {a}value = :{name}"
        out.append(f"{a}key = :mk{n} AND {test}" if with_key else test)
    return out


def readings(meta: MetaFilter) -> tuple[str, ...]:
    """The kinds of value ``meta``'s text reads as (always ``text``)."""
    values = {"text": meta.text, "number": meta.number, "boolean": meta.boolean}
    return tuple(kind for kind, value in values.items() if value is not None)


def _lead(flt: Filter, params: dict[str, object]) -> tuple[int, list[str]]:
    """The filter walked and its ranges (``listing.resolve`` chose them; unresolved:
    the first filter, every reading of its value)."""
    n = flt.meta_lead if flt.meta_lead is not None else 0
    kinds = flt.meta_kinds if flt.meta_kinds is not None else KINDS
    return n, ranges(flt.meta[n], n, params, "m0", kinds)


def _tests(
    flt: Filter,
    lead: int,
    params: dict[str, object],
    *,
    walk_folder: bool,
    search: Search | None = None,
) -> list[str]:
    """The filters other than the lead's value, on the entry ``m0`` walked. The folder:
    one range of the folder index, or (``walk_folder``, the recursive and key-limited
    ones) a test of each entry, ``+`` keeping SQLite off the folder index, whose ranges
    would have to be merged and sorted (``+``: SQLite's; ``dialect.run`` drops it on
    PostgreSQL). ``search``: the search term's substring-index query (``listing``), when
    every entry is to be tested (a count, a deep page): membership in its matches,
    gathered once, costs less than a probe of ``images`` per entry (10,000 entries:
    ≈ 3 ms against ≈ 15)."""
    tests: list[str] = []
    if flt.folder is not ALL_FOLDERS:
        params["folder"] = folder_to_db(flt.folder)
        if flt.recursive:
            if walk_folder:
                tests.append("(+m0.folder = :folder OR (+m0.folder >= :lo AND +m0.folder < :hi))")
            params |= {"lo": f"{flt.folder}/", "hi": f"{flt.folder}0"}
        else:
            tests.append("m0.folder = :folder")
    if flt.limit is not None:
        clause, limit_params = flt.limit.where("+m0.folder")
        tests.append(clause)
        params |= limit_params
    for n, meta in enumerate(flt.meta):
        if n != lead:
            tests.append(
                f"EXISTS (SELECT 1 FROM image_metadata o{n} {PROBE} "
                f"WHERE o{n}.image_pk = m0.image_pk "
                f"AND {condition(meta, n, params, f'o{n}')})"
            )
    if flt.undescribed:
        tests.append("m0.undescribed")
    if flt.search:
        if flt.matches_pks is not None:  # the exact matches, listed by listing.resolve
            tests.append("m0.image_pk IN (SELECT value FROM json_each(:matches))")
            params["matches"] = json.dumps(flt.matches_pks)
        elif search is not None:
            tests.append(f"m0.image_pk IN ({search[0]})")
            params |= search[1]
        else:  # the rule itself, on each entry walked (a common term: a page comes soon)
            tests.append(
                "EXISTS (SELECT 1 FROM images WHERE images.pk = m0.image_pk "
                "AND instr(search_text, :term) > 0)"
            )
            params["term"] = fold(flt.search)
    return tests


# DIALECT (SQLite): the candidates of a query (at most one over the cap, read once:
# MATERIALIZED), and when no more than the cap, those whose text holds the term (the
# rule itself), as a JSON list in ``{order}`` (an ORDER BY of ``images``' columns: the
# rows are read here anyway, so sorting the few hundred costs little, and a page of
# them is then a slice). SQLite keeps a subquery's ORDER BY when the query over it
# aggregates with a function other than count/min/max (its "omit ORDER BY" rule, 3.41+),
# so json_group_array lists them in that order. Used for the term's cover alone
# (``listing``) and for its cover in common with meta values (``search_among``).
CONFIRMED_SQL = """
WITH candidates(pk) AS MATERIALIZED ({candidates})
SELECT (SELECT COUNT(*) FROM candidates),
  CASE WHEN (SELECT COUNT(*) FROM candidates) <= :cap THEN
    (SELECT json_group_array(pk) FROM (SELECT pk FROM images
     WHERE pk IN candidates AND instr(search_text, :term) > 0 ORDER BY {order}))
  END
"""


def search_among(
    conn: Connection,
    flt: Filter,
    search: Search,
    cap: int,
    confirm: str | None = None,
    order: str = "pk",
) -> list[int] | None:
    """The pks of the images matching every meta filter and the search (``search``: the
    substring index's query of its matches), or ``None`` when more than ``cap``: a
    common value and a common term each hold thousands of images, and their few hundred
    in common are what a count and a page then read (``listing.resolve``).

    One merge of lists in pk order: each filter's ranges of ``ix_image_metadata_value``
    (pk order within a value) and the index's matches (FTS5 gives rowids in order).
    Building a set of one and probing it with the other costs 3-4× more (10,000 entries
    and 8,000 matches at 100,000 images: 3.5 ms against 12). A filter read two ways
    (``12`` as text and as a number) is the union of its ranges, one list of its own.

    ``confirm`` (SQLite): the folded term, when ``search`` is the term's trigram cover
    (``sqlite_search.cover_of``), candidates, not matches: no merge then, the values' tags
    and the cover are one query of the trigram index (``meta_tags``, migration 0023), and
    the candidates are confirmed against ``search_text`` (the rule itself); ``None``
    when more than ``cap`` candidates. Listed in ``order`` (one of ``ORDER``; else pk
    order)."""
    params: dict[str, object] = {"over": cap + 1} | search[1]
    if confirm is not None:
        # DIALECT: SQLite's (the trigram cover is FTS5's): the values' tags and the
        # cover in one FTS5 query (migration 0023), the few in common confirmed.
        values = []  # each filter's readings (12 as text, as a number): any of them
        for n, meta in enumerate(flt.meta):
            arms = ranges(meta, n, params, kinds=readings(meta))
            values.append(" OR ".join(f"({r})" for r in arms))
        tagged = meta_tags.query(conn, values, params, str(search[1]["cover"]))
        if tagged is None:  # a value no image has ever had: none in common
            return []
        params["tagged"] = tagged
        found, listed = tuple(
            run(
                conn,
                CONFIRMED_SQL.format(candidates=meta_tags.TAGGED_SQL, order=order),
                params | {"term": confirm, "cap": cap},
            ).one()
        )
        return None if found > cap else [int(pk) for pk in json.loads(listed)]
    lists = []
    for n, meta in enumerate(flt.meta):
        kinds = flt.meta_kinds if n == flt.meta_lead and flt.meta_kinds else readings(meta)
        arms = [
            f"SELECT image_pk FROM image_metadata WHERE {r}"
            for r in ranges(meta, n, params, kinds=kinds)
        ]
        if len(arms) == 1:
            lists.append(arms[0])
        else:  # its own list (on PostgreSQL INTERSECT binds tighter than UNION)
            lists.append(f"SELECT image_pk FROM ({' UNION ALL '.join(arms)}) AS u{n}")
    merged = " INTERSECT ".join([*lists, search[0]]) + " ORDER BY 1 LIMIT :over"
    if is_pg(conn):
        # DIALECT (PostgreSQL): no merge of ordered lists there; INTERSECT hashes every
        # entry of both sides (10,000 + 8,000) and sorts. The first filter's entries
        # tested against a hash of the term's matches and of the other filters' costs
        # 25% less (5.6 ms against 7.7, EXPLAIN ANALYZE, the best of 30 under load).
        tests = "".join(f" AND image_pk IN ({sql})" for sql in [search[0], *lists[1:]])
        merged = f"SELECT image_pk FROM ({lists[0]}) AS l0 WHERE true{tests} ORDER BY 1 LIMIT :over"
    # One row, a JSON list: a row each costs more in Python than the merge in SQLite.
    # DIALECT: PostgreSQL's aggregate is json_agg (psycopg reads it as a list; NULL
    # when nothing is in common).
    agg = pick(conn, "json_group_array(image_pk)", "json_agg(image_pk)")
    found = run(conn, f"SELECT {agg} FROM ({merged}) AS common", params).scalar_one()
    pks = [int(pk) for pk in (json.loads(found) if isinstance(found, str) else found or [])]
    return None if len(pks) > cap else pks


def count(conn: Connection, flt: Filter, search: Search | None = None) -> int:
    """How many images match: the entries of the lead's ranges that pass the other
    tests, each range counted on its own index (a recursive folder: the folder and the
    folders below it, two ranges). ``search``: the search term's substring-index query
    and its parameters (``listing._search_of``), if it has one."""
    if flt.matches_among_meta and flt.matches_pks is not None and flt.unscoped:
        return len(flt.matches_pks)  # search_among listed exactly these
    params: dict[str, object] = {}
    lead, arms = _lead(flt, params)
    recursive = flt.recursive and flt.folder is not ALL_FOLDERS
    tests = _tests(flt, lead, params, walk_folder=False, search=search)
    scopes = ["m0.folder = :folder", "m0.folder >= :lo AND m0.folder < :hi"] if recursive else [""]
    counts = [
        "(SELECT COUNT(*) FROM image_metadata m0 WHERE "
        + " AND ".join(c for c in (arm, scope, *tests) if c)
        + ")"
        for arm in arms
        for scope in scopes
    ]
    if not counts:
        return 0
    found = run(conn, "SELECT " + " + ".join(counts), params).scalar_one()
    assert isinstance(found, int)
    return found


def select_pks(
    flt: Filter,
    order: str,
    params: dict[str, object],
    beyond: str = "",
    search: Search | None = None,
) -> str:
    """A SELECT of the matching images' pks in ``order`` (one of ``ORDER``, or a keyset's
    order of the same columns), from ``:limit`` and ``:offset`` (the caller binds both),
    ``beyond``: a condition on the sort's columns (a cursor's keyset range); ``search`` as for
    ``count``, for a page far enough in that most entries are tested. Run it with
    ``dialect.run``."""
    lead, arms = _lead(flt, params)
    tests = _tests(flt, lead, params, walk_folder=True, search=search)
    if beyond:
        tests.append(beyond)
    if not arms:
        return "SELECT 0 WHERE 1 = 0"
    wheres = [" AND ".join([arm, *tests]) for arm in arms]
    if len(wheres) == 1:
        return (
            f"SELECT m0.image_pk FROM image_metadata m0 WHERE {wheres[0]} "
            f"ORDER BY {order} LIMIT :limit OFFSET :offset"
        )
    # A merge of the ordered ranges: ORDER BY on a compound names its result columns, so
    # the name and taken keys (expressions) are result columns, named.
    columns = ", ".join(f"{sql} AS {name}" for name, sql in _KEYS.items())
    compound = " UNION ALL ".join(
        f"SELECT m0.image_pk, {columns} FROM image_metadata m0 WHERE {w}" for w in wheres
    )
    merged = order
    for name, sql in _KEYS.items():
        merged = merged.replace(sql, name)
    return (
        f"SELECT image_pk FROM ({compound} ORDER BY {merged} LIMIT :limit OFFSET :offset) AS merged"
    )


def page(
    conn: Connection,
    flt: Filter,
    offset: int,
    limit: int,
    sort: Sort,
    total: int,
    search: Search | None = None,
) -> list[ImageRecord]:
    """Rows ``offset`` to ``offset + limit`` in ``sort`` (one of ``ORDER``); past the
    middle read backwards from the far end (the shorter walk), then turned round.
    ``search`` as for ``count``: used past the first page."""
    order = ORDER[sort]
    among = flt.matches_pks if flt.matches_among_meta and flt.unscoped else None
    if among is not None and flt.matches_sort is sort:
        # search_among listed them in this order (listing.resolve, given the sort): the
        # page is a slice, its rows read by pk. Walking the lead's order instead passes
        # thousands of its entries between two in common, and reading every one of them
        # to sort them (below) costs ≈ 1 µs each (819 at 100,000 images: ≈ 1 ms).
        sql = (
            f"SELECT {RECORD_COLUMNS} FROM images WHERE pk IN "
            f"(SELECT value FROM json_each(:matches)) ORDER BY {order}"
        )
        sliced = {"matches": json.dumps(among[offset : offset + limit])}
        return [record(r) for r in run(conn, sql, sliced)]
    backwards = offset > total // 2
    if backwards:
        end = min(offset + limit, total)
        offset, limit, order = total - end, end - offset, _REVERSED[sort]
    params: dict[str, object] = {"limit": limit, "offset": offset}
    if among is not None and offset * 4 > total and not is_pg(conn):
        # The images search_among listed (at most listing.SEARCH_AMONG_CAP), each read
        # by its pk and sorted: a page far from both ends of the lead's order walks
        # thousands of its entries between two in common (819 of 10,000 at 100,000
        # images, the middle page: ≈ 1.1-1.5 ms against 1.5-2.0, under load). Nearer
        # an end, the walk is shorter than the list. (Measured on SQLite only.)
        params["matches"] = json.dumps(among)
        inner = (
            "SELECT pk FROM images WHERE pk IN (SELECT value FROM json_each(:matches)) "
            f"ORDER BY {order} LIMIT :limit OFFSET :offset"
        )
    else:
        inner = select_pks(flt, order, params, search=search if offset else None)
    sql = f"SELECT {RECORD_COLUMNS} FROM images WHERE pk IN ({inner}) ORDER BY {order}"
    rows = [record(r) for r in run(conn, sql, params)]
    if backwards:
        rows.reverse()
    return rows


def with_lead(flt: Filter, lead: int, kinds: tuple[str, ...]) -> Filter:
    return replace(flt, meta_lead=lead, meta_kinds=kinds)


# A meta.KEY=VALUE whose value at most this many images have is resolved to their pks
# once (count and page then read that list); a commoner one is tested row by row while
# the sort's index is walked, which finds a page after a few hundred rows.
META_RESOLVE_CAP = 2000


def resolve_meta(conn: Connection, flt: Filter, among: pg_tokens.Among | None = None) -> Filter:
    """The meta filter with the fewest images and the readings of its value some image
    has (what this module walks); when it has few, the pks of every image matching all
    the filters (``listing.resolve`` asks this first). Each range is counted up to just
    over the cap (PostgreSQL: its row of counts, ``pg_meta_counts``, exact): a common
    value costs what a rare one does. One statement for every filter's ranges.

    ``among`` (PostgreSQL, a term within one word): the images' tokens are asked in
    the same statement for those the values and the term have in common, which, when
    the values are common and those in common few, are the answer (``matches_pks``,
    listed in ``among.sort``): one round trip, plan and snapshot fewer for every page
    of a common value and a common term."""
    params: dict[str, object] = {"over": META_RESOLVE_CAP + 1}
    wheres = [
        ranges(m, n, params, kinds=(k,))[0] for n, m in enumerate(flt.meta) for k in readings(m)
    ]
    table = is_pg(conn)  # DIALECT: PostgreSQL keeps each reading's number (pg_meta_counts)
    columns = [
        pg_meta_counts.reading(w) if table else
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM image_metadata WHERE {w} LIMIT :over))"
        for w in wheres
    ]  # fmt: skip
    scope = pg_meta_counts.scope(flt) if table else None
    if scope is not None:  # and the filter's own count, in the same statement
        columns += [pg_meta_counts.reading(w, scope) for w in wheres]
    if among is not None:
        columns.append(pg_tokens.query(flt, among, params))
    row = tuple(run(conn, "SELECT " + ", ".join(columns), params).one())
    counts, at = [], 0
    for n, meta in enumerate(flt.meta):
        kinds = readings(meta)
        found = row[at : at + len(kinds)]
        at += len(kinds)
        held = tuple(k for k, c in zip(kinds, found, strict=True) if c)
        counts.append((sum(found), n, held))
    least, rarest, held = min(counts)
    flt = with_lead(flt, rarest, held)
    if scope is not None:  # DIALECT (PostgreSQL): counted with its readings, common or
        # rare (a rare value's pks were listed only to be counted; its page walks them)
        return replace(flt, meta_count=sum(row[at : at + len(wheres)]))
    if least > META_RESOLVE_CAP:
        common = pg_tokens.listed(row[-1], among.cap) if among is not None else None
        if common is None or among is None:
            return flt
        return replace(
            flt, matches_pks=tuple(common), matches_among_meta=True, matches_sort=among.sort
        )
    if not least:
        return replace(flt, meta_pks=())
    others = "".join(
        f" AND EXISTS (SELECT 1 FROM image_metadata o{n} {PROBE} "
        f"WHERE o{n}.image_pk = m.image_pk "
        f"AND {condition(flt.meta[n], n, params, f'o{n}')})"
        for _c, n, _k in counts
        if n != rarest
    )
    union = " UNION ALL ".join(
        f"SELECT image_pk FROM image_metadata WHERE {r}"
        for r in ranges(flt.meta[rarest], rarest, params, kinds=held)
    )
    pks = run(conn, (f"SELECT m.image_pk FROM ({union}) AS m WHERE 1{others}"), params).scalars()
    return replace(flt, meta_pks=tuple(sorted(pks)))
