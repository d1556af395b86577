"""Which database a connection talks to, and the few spellings that differ.

Every ``DIALECT`` mark in ``sql/`` keeps SQLite's text (a folder library) as it was and
has PostgreSQL's (a team library, ``pg_engine.py``) next to it: a whole statement where
they differ in substance (search: FTS5 there, pg_trgm here), or, for the statements the
listing builds from parts, ``run``, which respells the SQLite-only words below."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, CursorResult


def is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def pick(conn: Connection, sqlite: str, postgresql: str) -> str:
    """``sqlite``'s text on SQLite, ``postgresql``'s on PostgreSQL."""
    return postgresql if conn.dialect.name == "postgresql" else sqlite


# SQLite's words in the listing's statements → PostgreSQL's.
_PG_WORDS = (
    # 0002's nocase(): ASCII letters folded, then byte order, as SQLite's NOCASE.
    ("filename COLLATE NOCASE", "nocase(filename)"),
    # A meta walk's test of each entry against the listed matches (meta_listing._tests):
    # PostgreSQL turns a top-level IN (list) into a join, which its planner (guessing 100
    # elements for a list of 800) drives from the list, probing each element's rows and
    # sorting them: a cursor's LIMIT 1 read of 800 matches took 9 ms, a first page 4.5.
    # Not top level (IS TRUE), it is a hashed subplan: the list hashed once, each entry
    # of the sort's index walked tested against it, stopping at the page (0.3 ms each).
    # The JSON list read as an array literal ([1, 2] → {1, 2}): 819 pks unnested in
    # ≈ 0.1 ms less than as jsonb elements, each cast.
    (
        "m0.image_pk IN (SELECT value FROM json_each(:matches))",
        "(m0.image_pk IN (SELECT unnest(CAST(translate(:matches, '[]', '{}') AS bigint[]))))"
        " IS TRUE",
    ),
    # "+column" keeps SQLite's planner off an index; PostgreSQL has no such mark.
    ("+folder", "folder"),
    ("+m0.folder", "m0.folder"),
    ("+pk", "pk"),
    # SQLite's planner told which index a probe reads (meta_listing.PROBE).
    (" INDEXED BY ix_image_metadata_probe", ""),
    ("instr(search_text, :term) > 0", "strpos(search_text, :term) > 0"),
    # JSON lists of ids (text) and of pks (numbers).
    ("SELECT value FROM json_each(:ids)", "SELECT jsonb_array_elements_text(CAST(:ids AS jsonb))"),
    (
        "SELECT value FROM json_each(:meta_pks)",
        "SELECT CAST(jsonb_array_elements_text(CAST(:meta_pks AS jsonb)) AS bigint)",
    ),
    (
        "SELECT value FROM json_each(:matches)",
        "SELECT CAST(jsonb_array_elements_text(CAST(:matches AS jsonb)) AS bigint)",
    ),
    # A join with ON is an inner join there (SQLite's CROSS JOIN only fixes the order).
    (" CROSS JOIN ", " JOIN "),
    (" AS m WHERE 1", " AS m WHERE true"),
    # PostgreSQL 15 names every subquery in FROM.
    (" LIMIT :over))", " LIMIT :over) AS c)"),
)
_META_NUMBER = re.compile(r"^mn\d+$")
_META_BOOLEAN = re.compile(r"^mb\d+$")


def pg_number(value: Any) -> str:
    """A number as migration 0008 stores it on PostgreSQL: the shortest decimal,
    without exponent or trailing zeros (``12.0`` → ``"12"``, ``1e20`` → its digits)."""
    out = format(Decimal(repr(value)).normalize(), "f")
    return "0" if out in ("-0", "0") else out


# A bind as ``text()`` finds it: ``:name``, not ``::type`` nor ``\:``.
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])")
# The listing's statements as psycopg takes them, by their SQLite text: a few hundred
# shapes at most (filters × sorts × plans), each respelled once.
_PG_TEXT: dict[str, str] = {}
_PG_TEXT_MAX = 4096


def _pg_text(sql: str) -> str:
    """``sql`` (SQLite's words, ``:name`` binds) as psycopg's ``%(name)s`` text with
    PostgreSQL's words (``_PG_WORDS``); ``%`` doubled, as ``text()`` compiles it."""
    done = _PG_TEXT.get(sql)
    if done is None:
        out = sql
        for sqlite, postgresql in _PG_WORDS:
            out = out.replace(sqlite, postgresql)
        out = _BIND.sub(r"%(\1)s", out.replace("%", "%%")).replace("\\:", ":")
        if len(_PG_TEXT) >= _PG_TEXT_MAX:
            _PG_TEXT.clear()
        _PG_TEXT[sql] = done = out
    return done


def run(conn: Connection, sql: str, params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
    """``sql`` with ``params`` (``:name`` each); on PostgreSQL with SQLite's words respelled
    (``_PG_WORDS``) and ``meta.KEY=VALUE``'s number and boolean as the text 0008 keeps.

    Both through the driver's own parameters: a ``text()`` construct is parsed, its
    cache key made and the compiled form looked up on every call, ≈ 0.1-0.3 ms a
    statement for the listing's long ones (SQLite: a page of a search among meta values,
    3 statements, ≈ 0.5 ms of 4.5; PostgreSQL: a search's first page, see _pg_text)."""
    if conn.dialect.name != "postgresql":
        # sqlite3 binds ``:name`` from the dict itself.
        return conn.exec_driver_sql(sql, dict(params or {}))
    adapted = {}
    for name, value in (params or {}).items():
        if _META_NUMBER.match(name):
            value = pg_number(value)
        elif _META_BOOLEAN.match(name):
            value = str(int(value))
        adapted[name] = value
    return conn.exec_driver_sql(_pg_text(sql), adapted)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(name: str) -> str:
    """What 0002's ``nocase()`` makes of a name (SQLite's NOCASE: ASCII letters only)."""
    return name.translate(_ASCII_LOWER)


def like_pattern(term: str) -> str:
    """``term`` as a literal LIKE substring (``%`` and ``_`` are not wildcards)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
