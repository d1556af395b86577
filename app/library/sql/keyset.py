"""Cursor pages: the rows after (or before) a position in a sort, found by the sort key
plus id — a range of the sort's index, never an OFFSET, so a page 4,000 pages deep costs
what the first does and rows added meanwhile cannot shift what a walk has still to read.

Each ``Sort`` has its key here (``KEYS``): the SQL expressions of its ORDER BY, each
with its direction and the record attribute holding its value. A new sort is one entry
here and one in ``listing._ORDER`` (``test_every_sort_has_a_keyset`` checks both)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection

from ..exif_facts import TAKEN_SORT_SQL
from ..filters import Filter, Sort
from ..records import ImageRecord
from . import listing, meta_listing
from .dialect import ascii_lower, is_pg, run
from .rows import RECORD_COLUMNS, record
from .search_plan import search_plan


@dataclass(frozen=True, slots=True)
class Key:
    sql: str  # as in the ORDER BY (with its collation)
    attr: str  # the ImageRecord attribute with the same value
    descending: bool


KEYS: Final[dict[Sort, tuple[Key, ...]]] = {
    Sort.NEWEST: (Key("created_at", "created_at_us", True), Key("id", "id", True)),
    Sort.OLDEST: (Key("created_at", "created_at_us", False), Key("id", "id", False)),
    Sort.NAME: (Key("filename COLLATE NOCASE", "filename", False), Key("id", "id", False)),
    # Never NULL (undated images have the lowest key), so one row-value range as the others.
    Sort.TAKEN: (
        Key(TAKEN_SORT_SQL, "taken_sort_us", True),
        Key("created_at", "created_at_us", True),
        Key("id", "id", True),
    ),
}

Position = tuple[object, ...]


def position(sort: Sort, rec: ImageRecord) -> Position:
    """Where ``rec`` stands in ``sort``: the values its cursor carries."""
    return tuple(getattr(rec, key.attr) for key in KEYS[sort])


def order(keys: tuple[Key, ...], backwards: bool) -> str:
    return ", ".join(f"{k.sql} {'DESC' if k.descending != backwards else 'ASC'}" for k in keys)


def beyond(keys: tuple[Key, ...], backwards: bool, inclusive: bool = False) -> str:
    """Rows strictly past ``:k0, :k1, ...`` in the walk's direction (``inclusive``: or at
    it). One direction for every key is a row-value range, which SQLite reads straight
    off the sort's index; mixed directions are spelled out key by key."""

    def op(key: Key, strict: bool) -> str:
        forward = "<" if key.descending != backwards else ">"
        return forward if strict else forward + "="

    # The first key's bound alone, which SQLite reads as a range of the sort's index
    # (it does not for a row value whose first column has a COLLATE), then the exact test.
    lead = f"{keys[0].sql} {op(keys[0], False)} :k0"
    if len({k.descending for k in keys}) == 1:
        columns = ", ".join(k.sql for k in keys)
        values = ", ".join(f":k{i}" for i in range(len(keys)))
        return f"{lead} AND ({columns}) {op(keys[0], not inclusive)} ({values})"
    ors = []
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        equal = [f"{k.sql} = :k{j}" for j, k in enumerate(keys[:i])]
        equal.append(f"{key.sql} {op(key, not (last and inclusive))} :k{i}")
        ors.append("(" + " AND ".join(equal) + ")")
    return f"{lead} AND (" + " OR ".join(ors) + ")"


def rows_from(
    conn: Connection,
    flt: Filter,
    sort: Sort,
    at: Position | None,
    limit: int,
    *,
    backwards: bool,
    total: int,
) -> list[ImageRecord]:
    """Up to ``limit`` rows past ``at`` (from the start when ``None``), walking
    backwards (towards the first row) or forwards; returned in ``sort`` order."""
    return rows_and_behind(conn, flt, sort, at, limit, backwards=backwards, total=total)[0]


def rows_and_behind(
    conn: Connection,
    flt: Filter,
    sort: Sort,
    at: Position | None,
    limit: int,
    *,
    backwards: bool,
    total: int,
) -> tuple[list[ImageRecord], bool | None]:
    """``rows_from``, and, when the same statement could tell, ``any_from`` in the other
    direction (whether a row stands at ``at`` or behind it): ``None`` when it did not
    (then ask ``any_from``)."""
    keys = KEYS[sort]
    if meta_listing.applies(flt, sort):
        # A meta filter: a range of image_metadata's index, whose columns (0014, 0018)
        # the keyset's names read there as they do on images.
        params: dict[str, object] = {"limit": limit, "offset": 0}
        if at is not None:
            params |= {f"k{i}": v for i, v in enumerate(folded(conn, sort, at))}
        past = beyond(keys, backwards) if at is not None else ""
        inner = meta_listing.select_pks(flt, order(keys, backwards), params, past)
        behind = ""
        if at is not None:
            # any_from's walk the other way as a column of the same statement (evaluated
            # once: it names no row of the outer query), one statement fewer for a
            # cursor page (PostgreSQL: a round trip, plan and snapshot, ≈ 0.3 ms of the
            # database's time and as much of the client's; SQLite: the statement's
            # overhead and a second parse of the listed matches' JSON). The same filter
            # and position: the same parameters; EXISTS stops at its first row.
            other = beyond(keys, not backwards, inclusive=True)
            back = meta_listing.select_pks(flt, order(keys, not backwards), params, other)
            behind = f", EXISTS ({back})"
        sql = (
            f"SELECT {RECORD_COLUMNS}{behind} FROM images WHERE pk IN ({inner}) "
            f"ORDER BY {order(keys, backwards)}"
        )
        rows = list(run(conn, sql, params))
        found = [record(r) for r in rows]
        if backwards:
            found.reverse()
        return found, bool(rows[0][-1]) if behind and rows else None
    walk = listing.walks_subtree(conn, flt)
    where, params = listing.where_clause(
        flt, _plan(conn, flt, limit, total), walk=walk, pg=is_pg(conn)
    )
    if at is not None:
        where = (where + " AND " if where else " WHERE ") + beyond(keys, backwards)
        params = params | {f"k{i}": v for i, v in enumerate(folded(conn, sort, at))}
    sql = (
        f"SELECT {RECORD_COLUMNS} FROM {_source(conn, flt)}{where} "
        f"ORDER BY {order(keys, backwards)} LIMIT :limit"
    )
    found = [record(r) for r in run(conn, (sql), params | {"limit": limit})]
    if backwards:
        found.reverse()
    return found, None


def any_from(
    conn: Connection, flt: Filter, sort: Sort, at: Position, *, backwards: bool, total: int
) -> bool:
    """Whether a row of the filter stands at ``at`` or past it, in that direction."""
    keys = KEYS[sort]
    if meta_listing.applies(flt, sort):
        params: dict[str, object] = {"limit": 1, "offset": 0}
        params |= {f"k{i}": v for i, v in enumerate(folded(conn, sort, at))}
        past = beyond(keys, backwards, inclusive=True)
        inner = meta_listing.select_pks(flt, order(keys, backwards), params, past)
        return run(conn, inner, params).first() is not None
    walk = listing.walks_subtree(conn, flt)
    where, params = listing.where_clause(flt, _plan(conn, flt, 1, total), walk=walk, pg=is_pg(conn))
    where = (where + " AND " if where else " WHERE ") + beyond(keys, backwards, inclusive=True)
    params = params | {f"k{i}": v for i, v in enumerate(folded(conn, sort, at))}
    sql = f"SELECT 1 FROM {_source(conn, flt)}{where} ORDER BY {order(keys, backwards)} LIMIT 1"
    return run(conn, (sql), params).first() is not None


# DIALECT (PostgreSQL): the rows of an ids filter (at most 100), read first behind a fence
# (OFFSET 0 keeps the planner from folding it into the walk); the rest of the filter, the
# cursor's bound and the order then apply to those few. psycopg prepares a statement run
# often, and PostgreSQL then may keep one generic plan for it, made without the cursor's
# values: for 100 ids before the middle of the library it walked the sort's index over
# half the images, testing each against the ids (≈ 21 ms of the server's CPU a page from
# the 11th call on, against ≈ 2 ms for the first ten; docs/performance.md, "4 on
# PostgreSQL", session 13).
_IDS_FIRST = f"(SELECT * FROM images WHERE {listing.IDS_CLAUSE} OFFSET 0) AS images"


def _source(conn: Connection, flt: Filter) -> str:
    """What a page's statement reads: ``images``, or an ids filter's rows first."""
    return _IDS_FIRST if flt.ids is not None and is_pg(conn) else "images"


def folded(conn: Connection, sort: Sort, at: Position) -> Position:
    """DIALECT: on PostgreSQL the name key is ``nocase(filename)``, an expression, not a
    collation, so the cursor's name is folded the same way before it is compared."""
    if sort is Sort.NAME and is_pg(conn) and isinstance(at[0], str):
        return (ascii_lower(at[0]), *at[1:])
    return at


def _plan(conn: Connection, flt: Filter, limit: int, total: int) -> str:
    """How a search is read (see ``search_plan``): from a cursor, a page walks
    as far as a first page does."""
    if listing.indexed_term(flt) is None:
        return "sort"
    scope = Filter(folder=flt.folder, undescribed=flt.undescribed, recursive=flt.recursive)
    in_scope = listing.count(conn, scope)
    return search_plan(0, limit, max(total, 1), in_scope, reversible=False)
