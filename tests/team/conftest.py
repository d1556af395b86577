"""Team-library tests: a migrated template database made once per session, copied for
each test (``CREATE DATABASE ... TEMPLATE``: a few milliseconds against migrating)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from imageshelf.app.library.sql.engine import make_engine, migrate
from tests.pg_server import PgServer


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    """The name of a database migrated to the head, never used by a test itself."""
    name = pg_server.unique_name("template")
    engine = make_engine(pg_server.create_database(name))
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return name


@pytest.fixture
def pg_database(pg_server: PgServer, pg_template: str) -> Iterator[str]:
    """The URL of the test's own migrated database."""
    name = pg_server.unique_name("lib")
    yield pg_server.create_database(name, template=pg_template)
    pg_server.drop_database(name)
