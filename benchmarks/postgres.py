"""Target 4 on PostgreSQL (issue 21, item 5): the query figures of a team library beside
SQLite's, same library (the rows of the generated SQLite library, copied), same bounds.

The benchmark starts its own PostgreSQL with the tests' fixture code
(``tests/pg_server.py``: a real server as an unprivileged user, on 127.0.0.1, in a
temporary directory) and stops it at the end. The team library's storage is an empty
folder: listing and searching read only the database, never an original.

Until PostgreSQL support (``Library.open_team``, ``tests/pg_server.py``) is part of this
copy, the table says so ("not yet"), which is not a failure. With it, a server that
cannot start (binaries missing) is a failure, as in the tests."""

from __future__ import annotations

import importlib.util
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from imageshelf.app.library import Library

from .common import Result, missing, not_yet

BATCH = 5000
TAG = " pg"  # appended to the target of each row measured on PostgreSQL


def missing_support() -> str | None:
    """Why PostgreSQL cannot be measured in this copy, or ``None`` when it can."""
    if not hasattr(Library, "open_team"):
        return "this copy has no team library yet (Library.open_team)"
    if importlib.util.find_spec("tests.pg_server") is None:
        return "this copy has no tests/pg_server.py to start PostgreSQL with"
    return None


def folder_storage(root: Path) -> Any:
    """A team library's storage on a folder: the tests' own (``tests/pg_server.py``)."""
    from tests.pg_server import folder_storage as tests_folder_storage

    return tests_folder_storage(root)


@contextmanager
def postgres_server() -> Iterator[Any]:
    """A running PostgreSQL (``tests.pg_server.PgServer``), stopped on the way out."""
    from tests import pg_server

    bin_dir = pg_server.find_bin_dir()
    if bin_dir is None:  # the tests' own words on what to install
        raise RuntimeError(getattr(pg_server, "_INSTALL", "PostgreSQL's binaries are missing"))
    server = pg_server.PgServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def copy_images(sqlite_db: Path, database_url: str) -> int:
    """The ``images`` rows of the generated SQLite library into the team database, in
    batches through the schema's own table (its triggers keep the folder counts and the
    custom metadata rows, as for an upload). Returns the number of rows."""
    from sqlalchemy import create_engine, select

    from imageshelf.app.library.models import ImageRow

    images = ImageRow.__table__
    source = create_engine(f"sqlite:///{sqlite_db}")
    target = create_engine(database_url)
    copied = 0
    try:
        with source.connect() as src, target.begin() as dst:
            result = src.execution_options(yield_per=BATCH).execute(select(images))
            for part in result.partitions(BATCH):
                dst.execute(images.insert(), [dict(row._mapping) for row in part])
                copied += len(part)
            dst.exec_driver_sql("ANALYZE")
    finally:
        source.dispose()
        target.dispose()
    return copied


def run(n: int, quick: bool = False) -> list[Result]:
    why = missing_support()
    if why is not None:
        return [not_yet("4 pg", "PostgreSQL: not yet", why)]
    from . import bench_queries
    from .generate import library

    root = library(n)
    try:
        with postgres_server() as server, tempfile.TemporaryDirectory() as tmp:
            url = server.create_database("bench")
            storage_dir = Path(tmp) / "team"
            Library.open_team(url, folder_storage(storage_dir)).close()  # the schema
            started = time.perf_counter()
            rows = copy_images(root / ".imageshelf" / "library.db", url)
            print(f"    {rows:,} rows copied into PostgreSQL in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
            backend = bench_queries.Backend(
                "PostgreSQL",
                TAG,
                lambda: Library.open_team(url, folder_storage(storage_dir)),
                ("team", url, str(storage_dir)),
                lambda: _psycopg_connect(server),
                "%s",
                None,
                "(team: no reconciliation)",
            )
            return bench_queries.run(n, quick, backend)
    except Exception as exc:
        return [missing("4 pg", "PostgreSQL query figures", f"failed: {exc!r}")]


def _psycopg_connect(server: Any) -> Any:
    import psycopg

    from tests.pg_server import SUPERUSER

    return psycopg.connect(
        host=server.host, port=server.port, user=SUPERUSER, dbname="bench", autocommit=True
    )
