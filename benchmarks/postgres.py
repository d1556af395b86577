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
import subprocess
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
    from sqlalchemy import create_engine, select, text

    from imageshelf.app.library.models import ImageRow
    from imageshelf.app.library.sql import order_marks

    images = ImageRow.__table__
    source = create_engine(f"sqlite:///{sqlite_db}")
    target = create_engine(database_url)
    copied = 0
    try:
        with source.connect() as src, target.begin() as dst:
            # 0022's page ranges counted once at the end of this one transaction, not by
            # 100,000 updates of the same three rows, whose old versions a transaction
            # cannot prune while it runs (10,000 rows: 45 s against 13 s, and worse as
            # the versions pile up). Transactional: a failed copy leaves neither.
            dst.execute(text("ALTER TABLE images DISABLE TRIGGER order_marks"))
            result = src.execution_options(yield_per=BATCH).execute(select(images))
            for part in result.partitions(BATCH):
                dst.execute(images.insert(), [dict(row._mapping) for row in part])
                copied += len(part)
            dst.execute(text("SELECT order_marks_rebuild(:s)"), {"s": order_marks.SPACING})
            dst.execute(text("ALTER TABLE images ENABLE TRIGGER order_marks"))
    finally:
        source.dispose()
        target.dispose()
    return copied


def _dump_path(n: int) -> Path:
    """The cached team database of ``n`` images: per generator and schema version."""
    from imageshelf.app.library.sql.engine import head_revision

    from .generate import DATA_DIR, GENERATOR_VERSION

    return DATA_DIR / f"pg-{n}-v{GENERATOR_VERSION}-{head_revision()}.dump"


def _pg_tool(server: Any, tool: str, *args: str) -> None:
    """``pg_dump``/``pg_restore`` of the server's own version, as the tests' superuser."""
    from tests.pg_server import SUPERUSER

    done = subprocess.run(
        [str(server.bin_dir / tool), "-h", server.host, "-p", str(server.port), "-U", SUPERUSER,
         *args],
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{tool} failed: {done.stderr[-2000:]}")


def _older_dump(n: int) -> Path | None:
    """The newest cached dump of the same generated library at an earlier schema version
    (a migration since makes a new name), which migrating is quicker than copying."""
    from .generate import GENERATOR_VERSION

    dump = _dump_path(n)
    older = sorted(dump.parent.glob(f"pg-{n}-v{GENERATOR_VERSION}-*.dump"), reverse=True)
    return next((d for d in older if d.name < dump.name), None)


def settle(url: str) -> None:
    """``VACUUM (ANALYZE)`` after a bulk load, as autovacuum does on a live database in
    its own time: the planner's statistics, and the visibility map that lets a page read
    by OFFSET walk an index alone. A freshly copied or restored database has none: every
    index entry then also reads its table row ("Heap Fetches: 50000" for a page 50,000
    deep, 86 ms instead of 12).

    ``folder_counts`` is rewritten first (``VACUUM FULL``): the copy is one transaction,
    in which the counting triggers updated its 20 rows 100,000 times, and the dead
    versions left 658 pages that a plain VACUUM empties but keeps, so every count read
    them all (0.2-0.6 ms a page of the listing). A live library's uploads, each its
    own transaction, leave a few that pruning reclaims as it goes. ``order_marks`` (0022)
    likewise; a fresh copy's ranges (one per sort, grown by the triggers) are re-cut first,
    as the team library's housekeeping does at open (``order_marks.rebalance``)."""
    import psycopg
    from sqlalchemy import create_engine

    from imageshelf.app.library.sql import order_marks

    engine = create_engine(url)
    try:  # the page ranges of a fresh copy (all in one), cut as the housekeeping does
        with engine.begin() as conn:
            order_marks.rebalance(conn)
    finally:
        engine.dispose()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.autocommit = True  # VACUUM runs outside a transaction
        conn.execute("VACUUM (FULL) folder_counts, order_marks")
        conn.execute("VACUUM (ANALYZE)")


def fill(server: Any, url: str, n: int, storage_dir: Path) -> str:
    """Makes the ``bench`` database hold the generated library's ``n`` images. The first
    time the rows are copied (about 2 minutes for 100,000 on 2 busy cores: every row
    passes the schema's triggers) and the database is dumped under ``benchmarks/.data``;
    later runs restore the dump (its indexes rebuilt in bulk), and a dump made before a
    migration is restored and migrated (then dumped under the new schema's name). Either
    way the database is vacuumed and analysed (``settle``). Says which it did."""
    from .generate import library

    dump = _dump_path(n)
    started = time.perf_counter()
    if dump.exists():
        _pg_tool(server, "pg_restore", "--no-owner", "-d", "bench", str(dump))
        settle(url)
        return f"restored from {dump.name} in {time.perf_counter() - started:.0f} s"
    older = _older_dump(n)
    if older is not None:
        _pg_tool(server, "pg_restore", "--no-owner", "-d", "bench", str(older))
        how = f"restored from {older.name} and migrated"
    else:
        Library.open_team(url, folder_storage(storage_dir)).close()  # the schema
        how = f"{copy_images(library(n) / '.imageshelf' / 'library.db', url):,} rows copied"
    Library.open_team(url, folder_storage(storage_dir)).close()  # migrated to the head
    settle(url)
    took = time.perf_counter() - started
    partial = dump.with_suffix(".partial")
    _pg_tool(server, "pg_dump", "-Fc", "-f", str(partial), "bench")
    partial.replace(dump)
    return f"{how} in {took:.0f} s, dumped to {dump.name}"


def run(n: int, quick: bool = False) -> list[Result]:
    why = missing_support()
    if why is not None:
        return [not_yet("4 pg", "PostgreSQL: not yet", why)]
    from . import bench_queries

    try:
        with postgres_server() as server, tempfile.TemporaryDirectory() as tmp:
            url = server.create_database("bench")
            storage_dir = Path(tmp) / "team"
            print(f"    PostgreSQL: {fill(server, url, n, storage_dir)}", flush=True)
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
