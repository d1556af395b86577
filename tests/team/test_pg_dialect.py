"""``dialect.run`` on PostgreSQL: the listing's SQLite-worded statements with ``:name``
binds, respelled once into the driver's own ``%(name)s`` form (``_pg_text``) and run
with its parameters — a literal ``%``, a ``::`` cast, a bind used twice, a bind the
statement does not name, and SQLite's words (``_PG_WORDS``) all as ``text()`` had them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from imageshelf.app.library.sql import dialect
from imageshelf.app.library.sql.engine import make_engine


@pytest.fixture
def conn(pg_database: str) -> Iterator[Connection]:
    engine = make_engine(pg_database)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def test_binds_casts_and_percent_signs(conn: Connection) -> None:
    row = dialect.run(
        conn,
        "SELECT '50%' || :a, CAST(:n AS integer) + :n, '7'::integer, 'x' LIKE '%' ",
        {"a": "off", "n": 2, "unused": object()},
    ).one()
    assert tuple(row) == ("50%off", 4, 7, True)
    assert dialect.run(conn, "SELECT 'a%%b', '%(x)s'").one() == ("a%%b", "%(x)s")


def test_sqlite_words_are_respelled(conn: Connection) -> None:
    ids = "SELECT value FROM json_each(:ids)"
    assert dialect._pg_text(ids) == "SELECT jsonb_array_elements_text(CAST(%(ids)s AS jsonb))"
    assert dialect.run(conn, ids, {"ids": '["a", "b"]'}).scalars().all() == ["a", "b"]
    term = "SELECT instr(search_text, :term) > 0 FROM (SELECT 'a:b' AS search_text) AS t"
    assert dialect.run(conn, term, {"term": ":b"}).scalar_one() is True


# Names whose letters fold differently under Unicode rules than under SQLite's NOCASE.
_NAMES = ["ABC.jpg", "Éclair.PNG", "STRASSE-ß.jpg", "İstanbul.jpg", "ΣΟΦΙΑ.jpg", "ＡＢＣ.jpg", "Zz"]


def test_nocase_folds_ascii_letters_only(conn: Connection) -> None:
    """0026's ``nocase()`` (``lower()`` under "C") gives SQLite's NOCASE key, what
    ``dialect.ascii_lower`` makes of a name: ASCII letters folded, every other byte kept."""
    folded = conn.exec_driver_sql(
        "SELECT nocase(n) FROM unnest(CAST(%(names)s AS text[])) AS n", {"names": _NAMES}
    ).scalars()
    assert list(folded) == [dialect.ascii_lower(n) for n in _NAMES]
    assert dialect.ascii_lower("ÉCLAIR.PNG") == "Éclair.png"


def test_name_order_still_walks_the_name_index(conn: Connection) -> None:
    """The function inlined into a query is the expression the name indexes were built
    on (its collation too): a name page walks ``ix_images_name``, never a sort."""
    conn.exec_driver_sql("SET enable_seqscan = off")
    plan = "\n".join(
        conn.exec_driver_sql(
            "EXPLAIN SELECT pk FROM images ORDER BY nocase(filename), id LIMIT 25"
        ).scalars()
    )
    assert "ix_images_name" in plan
    assert "Sort" not in plan
