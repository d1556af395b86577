"""The engine of a library and its migrations: SQLite (a folder library) or PostgreSQL
(a team library, ``postgresql://`` URL; ``sql/pg_engine.py``).

SQLite: WAL lets readers (the grid, the HTTP proxy) run while one writer commits;
``synchronous=FULL`` makes every acknowledged commit survive a power cut, not just a
killed process.

DIALECT: the pragmas are SQLite's; PostgreSQL's engine is ``pg_engine.make_pg_engine``,
and ``write_transaction``, ``migrate`` and ``database_errors`` branch on the dialect."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from importlib.resources import as_file, files
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from ..errors import StorageError
from ..migrations.versions import HEAD
from . import pg_engine

# The package holding the migrations (its parent's name, whatever the package is called).
_CORE_PACKAGE = (__package__ or __name__).rpartition(".")[0]


def is_url(target: str | Path) -> bool:
    """Whether ``target`` is a database URL (``postgresql://...``) rather than a path."""
    return isinstance(target, str) and "://" in target


def make_engine(db_path: Path | str, *, read_only: bool = False) -> Engine:
    """The engine for a SQLite file (a path) or a database URL (``postgresql://``: see
    ``pg_engine``). ``read_only``: for a disk that is full or read-only
    (``Library.open``): SQLite cannot make the WAL's shared-memory file there, so a
    database closed cleanly (no ``-wal`` left) is opened ``immutable``; every write
    fails, as a ``StorageError``."""
    if is_url(db_path):
        return pg_engine.make_pg_engine(str(db_path))
    db_path = Path(db_path)
    url = f"sqlite:///{db_path}"
    if read_only:
        wal = db_path.with_name(db_path.name + "-wal")
        flags = "mode=ro" if wal.exists() and wal.stat().st_size else "mode=ro&immutable=1"
        url = f"sqlite:///file:{quote(str(db_path))}?{flags}&uri=true"
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8,
        max_overflow=24,
        # The connection returned last is given next. SQLite drops a connection's page
        # cache whenever another connection wrote since its last transaction; taken in
        # turn (first in, first out), every upload's commit came on a connection that had
        # not made the one before, and read its pages back (≈ 25 reads and ≈ 0.04 ms a
        # commit). Writers take turns under ``Core.write_lock``, so last in, first out
        # gives them one connection whose cache stays good (docs/performance.md, 3).
        pool_use_lifo=True,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # The driver's own transaction handling interferes with explicit BEGINs below.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not read_only:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-16000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        if conn.get_execution_options().get(_IMMEDIATE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


_IMMEDIATE = "imageshelf_immediate"


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that takes SQLite's write lock when it begins (``BEGIN IMMEDIATE``).

    A deferred transaction that reads first and writes later fails at once with
    "database is locked" (no busy wait) when another connection committed in between:
    its snapshot is stale. Every writer begins this way, so writers queue on the busy
    timeout instead, whatever connection or process the other one is on.

    DIALECT: on PostgreSQL the transaction (READ COMMITTED) takes one advisory lock
    first (``pg_engine.WRITE_LOCK``), which every process's writers queue on in the same
    way, so the core's read-then-write steps see what the writer before them committed."""
    if engine.dialect.name != "sqlite":
        with pg_engine.write_transaction(engine) as conn:
            yield conn
        return
    with engine.connect().execution_options(**{_IMMEDIATE: True}) as conn, conn.begin():
        yield conn


@contextlib.contextmanager
def driver_write(engine: Engine) -> Iterator[sqlite3.Connection]:
    """``write_transaction`` on SQLite's own driver connection, checked out of the
    engine's pool (its pragmas set on connect): for the commit of every upload, whose
    few statements SQLAlchemy's connection, transaction and execution layers made ≈ 0.2
    ms dearer each time (docs/performance.md, "3 — Uploads"). SQLite only; errors are
    the driver's (``database_errors`` maps them as it maps SQLAlchemy's)."""
    fairy = engine.raw_connection()
    try:
        conn = fairy.driver_connection
        assert isinstance(conn, sqlite3.Connection)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # a failed COMMIT may have ended it already
                conn.execute("ROLLBACK")
            raise
    finally:
        fairy.close()


def head_revision() -> str:
    """The newest migration, as ``migrations/versions`` names it (not found by listing
    files, which a PyInstaller bundle or a zip import does not have)."""
    return HEAD


def _at_head(engine: Engine) -> bool:
    head = head_revision()  # first, so the process knows it from its first open on
    if engine.dialect.name != "sqlite":
        return pg_engine.current_revision(engine) == head
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return False  # a new database: no version table yet
    return current == head


def at_head(engine: Engine) -> bool:
    """Whether the database needs no migration (a read-only library cannot run one)."""
    return _at_head(engine)


def migrate(engine: Engine) -> None:
    # An up-to-date library (every open but the first after an upgrade) skips importing
    # and running Alembic: a third of a second of every launch on a 2-core machine.
    if _at_head(engine):
        return
    upgrade(engine, "head")


def upgrade(engine: Engine, revision: str) -> None:
    """Runs Alembic up to ``revision`` on ``engine``, in one transaction."""
    from alembic import command
    from alembic.config import Config

    from ..models import Base

    # Alembic reads the revision scripts from a directory: the package's own (a bundle
    # ships them as data files, see packaging/imageshelf.spec).
    with as_file(files(_CORE_PACKAGE).joinpath("migrations")) as scripts:
        cfg = Config()
        cfg.set_main_option("script_location", str(scripts))
        with engine.begin() as conn:
            if conn.dialect.name != "sqlite":
                # Several processes may open a new team library at once: one migrates,
                # the others wait here and then find the schema at the head already.
                pg_engine.lock_for_migration(conn)
            cfg.attributes["connection"] = conn
            cfg.attributes["target_metadata"] = Base.metadata  # env.py imports nothing
            command.upgrade(cfg, revision)


@contextlib.contextmanager
def database_errors(doing: str) -> Iterator[None]:
    """SQLite refusing to write (full disk, read-only file, I/O error) as a
    ``StorageError``; the transaction was rolled back, so nothing was half-saved."""
    try:
        yield
    except (OperationalError, sqlite3.OperationalError) as exc:
        # SQLAlchemy's wraps the driver's (``orig``); ``driver_write`` raises the driver's.
        orig = exc.orig if isinstance(exc, OperationalError) else exc
        if orig is not None and pg_engine.is_pg_error(orig):
            raise StorageError(f"Could not {doing}: {pg_engine.reason(orig)}.") from exc
        detail = str(orig or exc).lower()
        if "full" in detail:
            why = "the disk is full"
        elif "readonly" in detail or "read-only" in detail:
            why = "the library is on a read-only disk or its database is read-only"
        elif "locked" in detail or "busy" in detail:
            raise  # a transient lock is not a storage fault
        else:
            why = f"the database reported: {orig or exc}"
        raise StorageError(f"Could not {doing}: {why}.") from exc
