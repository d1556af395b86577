"""A team library's requests, one after another, are answered by one server process:
the pool gives back the connection returned last (``pg_engine.make_pg_engine``), whose
backend has its catalogs, plans and prepared statements warm, not each of the
connections it once opened in turn, each cold."""

from __future__ import annotations

from contextlib import ExitStack

from sqlalchemy import Engine, text

from imageshelf.app.library.sql import pg_engine


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_reads_one_after_another_reuse_the_connection_returned_last(pg_url: str) -> None:
    engine = pg_engine.make_pg_engine(pg_url)
    try:
        # Four at once (as a launch's threads and the server's do): the pool keeps four.
        with ExitStack() as stack:
            conns = [stack.enter_context(engine.connect()) for _ in range(4)]
            opened = {int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in conns}
        assert len(opened) == 4
        backends = [_backend(engine) for _ in range(12)]
        assert len(set(backends)) == 1, backends
        assert backends[0] in opened
    finally:
        engine.dispose()
