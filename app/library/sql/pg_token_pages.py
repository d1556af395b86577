"""DIALECT (PostgreSQL): a page of ``meta.KEY=VALUE`` values and a term within one word
(or of two or more values without a term) — by cursor or by page number — in ONE
statement, from the images' tokens (migration 0025, ``pg_tokens``), when the images
they have in common are few.

Before, such a page was two to four statements: the values' counts (is a value common?
which of its readings do images hold? ≈ 0.55 ms for a common value's 2,001 entries), the
tokens' list of the images in common or a rare value's images, then the page (a page
number: a slice of that list read by pk; a cursor: a walk of the lead value's index
testing each entry against the list, and whether anything lies behind the cursor). The
tokens' answer is exact for any value, common or rare (``pg_tokens``), and their rows
are visited anyway (GIN gives rows, not pks): here each row in common carries its sort
keys, so the count, the page's place (an OFFSET or a cursor's keyset range), whether
anything lies behind the cursor, and the page's rows (read by pk) all come from that
one visit. The statement's text depends only on the sort, the direction and the number
of meta filters, so psycopg prepares it after a few uses, and it is planned once a
session for any values (``_generic_rows``).

More than the cap in common: ``None``, and the page is read as ``listing`` reads it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ..filters import Filter, Sort
from ..records import ImageRecord
from . import keyset, listing, pg_search, pg_tokens
from .dialect import is_pg, like_pattern, run
from .orders import ORDER
from .rows import RECORD_COLUMNS, record

# The columns every sort's key is made of (``orders.ORDER``, ``keyset.KEYS``).
_KEY_COLUMNS = "pk, id, filename, created_at, taken_at"

# ``common``: the images in common with their keys, visited once. ``t``: their number
# and whether one lies behind the cursor. The page: the rows of the first ``:limit``
# past the cursor (or ``:offset``) in the walk's order, read by pk; skipped past the
# cap (the lateral's one-time filter), when only the count is of use. LEFT JOIN: the
# count comes back with an empty page too.
_SQL = """
WITH common AS MATERIALIZED (
  SELECT {columns} FROM images WHERE {tests} LIMIT :tok_over),
t AS MATERIALIZED (SELECT (SELECT COUNT(*) FROM common) AS n, {behind} AS behind)
SELECT t.n, t.behind, p.* FROM t LEFT JOIN LATERAL (
  SELECT {record} FROM images WHERE t.n <= :tok_cap AND pk IN (
    SELECT pk FROM common{beyond} ORDER BY {order} LIMIT :limit OFFSET :offset)
  ORDER BY {order}) AS p ON true
"""


# Two or more meta values without a term: at most this many in common are read here.
# Past it the rows visited before knowing (one each, ≈ 1.3 µs) are wasted, so the cap
# is lower than a term's: two common values can have thousands in common.
VALUES_CAP = 1000
# The answer ``_asks`` gives for meta values without a term.
_NO_TERM = ""


def _asks(conn: Connection, flt: Filter, sort: Sort) -> str | None:
    """What the tokens are asked when they answer ``flt`` whole, over the whole library
    (no folder, API key, ids): the term's ``LIKE`` pattern (meta values and a term
    within one word), ``_NO_TERM`` (two or more meta values, no term); else ``None``."""
    if not (flt.meta and flt.unscoped and sort in ORDER and is_pg(conn)):
        return None
    if flt.ids is not None or flt.meta_pks is not None or flt.matches_pks is not None:
        return None
    if not flt.search:
        return _NO_TERM if len(flt.meta) > 1 else None
    term = listing.indexed_term(flt)
    if term is None or not pg_search.in_one_word(term):
        return None
    return like_pattern(term)


def _read(
    conn: Connection,
    flt: Filter,
    like: str,
    params: dict[str, object],
    parts: dict[str, str],
    *,
    generic: bool = False,
) -> tuple[int, bool | None, list[ImageRecord]] | None:
    # With a term, listing's cap for the images values and a term have in common.
    cap = listing.SEARCH_AMONG_CAP if like != _NO_TERM else VALUES_CAP
    params |= {"tok_over": cap + 1, "tok_cap": cap}
    tests = pg_tokens.tests(flt, like or None, params)
    sql = _SQL.format(columns=_KEY_COLUMNS, tests=tests, record=RECORD_COLUMNS, **parts)
    got = (
        _generic_rows(conn, sql, params) if generic else [tuple(r) for r in run(conn, sql, params)]
    )
    total, behind = int(got[0][0]), got[0][1]
    if total > cap:
        return None
    return total, behind, [record(r[2:]) for r in got if r[2] is not None]


def _generic_rows(conn: Connection, sql: str, params: dict[str, object]) -> list[tuple[Any, ...]]:
    """``sql``'s rows, prepared and run with PostgreSQL's generic plan (its text is the
    same for any values). For a cursor's page: its
    custom plan (made for each call's values; ``plan_cache_mode = auto`` never settles
    on the generic one) cost ≈ 0.5-0.8 ms of the server's ≈ 3-4 a page; the generic
    plan, made once a session, walks the same way (the GIN index, then the few hundred
    rows in common) whatever the term, value or cursor. A page by number gained nothing
    from it (docs/performance.md, 4 on PostgreSQL, session 10). The setting is this
    statement's alone: set on the driver's connection before it and reset after, or
    undone by the rollback of a transaction it failed in."""
    from psycopg import pq  # only a team library gets here: not on every launch's clock

    raw: Any = conn.connection.driver_connection
    # Prepared at its first use on this connection: unprepared, the generic plan is
    # made anew each time and costs as much as a custom one (or more).
    threshold, raw.prepare_threshold = raw.prepare_threshold, 0
    _session(raw, b"SET plan_cache_mode = force_generic_plan")
    try:
        return [tuple(r) for r in run(conn, sql, params)]
    finally:
        raw.prepare_threshold = threshold
        if raw.info.transaction_status != pq.TransactionStatus.INERROR:
            _session(raw, b"RESET plan_cache_mode")


def _session(raw: Any, sql: bytes) -> None:
    """A setting of the session: outside a transaction straight through libpq (psycopg's
    cursor and wait loop cost ≈ 0.1 ms a statement); in one, through psycopg, which
    begins the transaction first, so that its rollback undoes the setting."""
    import psycopg
    from psycopg import pq

    if not raw.autocommit:
        raw.execute(sql)
        return
    done = raw.pgconn.exec_(sql)
    if done.status != pq.ExecStatus.COMMAND_OK:
        raise psycopg.OperationalError(done.error_message.decode(errors="replace"))


def page(
    conn: Connection, flt: Filter, offset: int, limit: int, sort: Sort
) -> tuple[int, list[ImageRecord]] | None:
    """The number of images ``flt`` keeps and rows ``offset`` to ``offset + limit`` of
    them in ``sort``; ``None`` when the tokens do not answer it or more than
    ``listing.SEARCH_AMONG_CAP``."""
    like = _asks(conn, flt, sort)
    if like is None:
        return None
    params: dict[str, object] = {"limit": limit, "offset": offset}
    parts = {"behind": "NULL", "beyond": "", "order": ORDER[sort]}
    found = _read(conn, flt, like, params, parts)
    return None if found is None else (found[0], found[2])


def cursor_page(
    conn: Connection,
    flt: Filter,
    sort: Sort,
    at: keyset.Position | None,
    limit: int,
    *,
    backwards: bool,
) -> tuple[int, list[ImageRecord], bool | None] | None:
    """The number of images ``flt`` keeps, up to ``limit`` of them past ``at`` (from the
    start when ``None``) walking backwards or forwards, in ``sort`` order, and whether
    one stands at ``at`` or behind it (``keyset.any_from`` the other way; ``None``
    without a cursor). ``None`` when the tokens do not answer it or more than
    ``listing.SEARCH_AMONG_CAP``."""
    like = _asks(conn, flt, sort)
    if like is None:
        return None
    keys = keyset.KEYS[sort]
    params: dict[str, object] = {"limit": limit, "offset": 0}
    parts = {"behind": "NULL", "beyond": "", "order": keyset.order(keys, backwards)}
    if at is not None:
        params |= {f"k{i}": v for i, v in enumerate(keyset.folded(conn, sort, at))}
        parts["beyond"] = " WHERE " + keyset.beyond(keys, backwards)
        other = keyset.beyond(keys, not backwards, inclusive=True)
        parts["behind"] = f"EXISTS (SELECT 1 FROM common WHERE {other})"
    found = _read(conn, flt, like, params, parts, generic=True)
    if found is None:
        return None
    total, behind, rows = found
    if backwards:
        rows.reverse()
    return total, rows, None if at is None else bool(behind)
