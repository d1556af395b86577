"""A team library's engine outlives its database connections: a connection the server
closed while it sat in the pool (a restart, an idle timeout, an administrator) is found
dead when it is next taken, and a new one answers (``pg_engine._ping_when_idle``: a
connection idle ``PING_AFTER_IDLE_S`` or longer is pinged first)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import exc, text

from imageshelf.app.library.sql import pg_engine
from tests.pg_server import SUPERUSER, PgServer


def _close_pooled_connections(pg_server: PgServer, database: str) -> int:
    with psycopg.connect(
        host=pg_server.host, port=pg_server.port, user=SUPERUSER, dbname="postgres",
        autocommit=True,
    ) as admin:  # fmt: skip
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = 'imageshelf'",
            (database,),
        ).fetchall()
    return len(rows)


def _answer(engine: object) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(text("SELECT 41 + 1")).scalar_one())


@pytest.mark.parametrize("idle_enough", [True, False])
def test_a_connection_closed_while_idle_is_replaced(
    pg_server: PgServer, pg_url: str, monkeypatch: pytest.MonkeyPatch, idle_enough: bool
) -> None:
    engine = pg_engine.make_pg_engine(pg_url)
    try:
        assert _answer(engine) == 42  # one connection, now in the pool
        database = engine.url.database
        assert database is not None
        assert _close_pooled_connections(pg_server, database) == 1
        # 0: any connection counts as idle long enough; a day: none does.
        monkeypatch.setattr(pg_engine, "PING_AFTER_IDLE_S", 0.0 if idle_enough else 86400.0)
        if idle_enough:
            assert _answer(engine) == 42  # pinged, found closed, replaced
        else:
            # Used a moment ago: taken without a ping, its statement fails (and the pool
            # is emptied, so the next one connects afresh).
            with pytest.raises(exc.OperationalError):
                _answer(engine)
        assert _answer(engine) == 42
    finally:
        engine.dispose()
