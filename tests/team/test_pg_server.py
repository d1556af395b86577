"""The test PostgreSQL server itself: running, on loopback only, as the C-collation
UTF-8 databases a team library needs."""

from __future__ import annotations

import psycopg

from tests.pg_server import SUPERUSER, PgServer


def test_a_new_database_answers_on_loopback_with_byte_order(
    pg_server: PgServer, pg_url: str
) -> None:
    assert pg_server.host == "127.0.0.1"
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(
        host=pg_server.host, port=pg_server.port, user=SUPERUSER, dbname=dbname
    ) as conn:
        collate, ctype = conn.execute(
            "SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()"
        ).fetchone() or ("", "")
        assert (collate, ctype) == ("C", "C.UTF-8")
        listen = (conn.execute("SHOW listen_addresses").fetchone() or ("",))[0]
        assert listen == "127.0.0.1"
        # Byte (code point) order, as SQLite compares: "a/" < "a/z" < "a0", "Z" < "a".
        ordered = conn.execute(
            "SELECT x FROM unnest(ARRAY['a0', 'a/z', 'a/', 'a', 'Z', 'é']) AS x ORDER BY x"
        ).fetchall()
        assert [x for (x,) in ordered] == ["Z", "a", "a/", "a/z", "a0", "é"]
