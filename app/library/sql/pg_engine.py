"""PostgreSQL as a library's database (a team library): the engine, the write lock that
stands in for SQLite's ``BEGIN IMMEDIATE``, migrations under a lock, singleton work, and
the driver's errors in words.

Several processes (servers, windows) use one database at once. SQLite serialises
writers by its file lock; here every write transaction (READ COMMITTED) takes one
transaction-scoped advisory lock first, so writers queue in the same way and the core's
read-then-write steps (a free name, a count, a change number) stay correct across
processes. Readers never take it.

The database must compare text byte by byte (``LC_COLLATE`` C), as SQLite does: folder
subtrees are read as the range ``"a/" <= folder < "a0"`` and names sort like SQLite's
NOCASE. ``check_database`` refuses another collation with the command that makes one."""

from __future__ import annotations

import contextlib
import secrets
import time
import zlib
from collections.abc import Iterator

from sqlalchemy import Connection, Engine, create_engine, event, exc, text

from ..errors import StorageError

# Advisory lock keys (any 64-bit numbers no other application on the database uses).
WRITE_LOCK = 0x1A6E_5E1F_0001
MIGRATE_LOCK = 0x1A6E_5E1F_0002
_SINGLETON_BASE = 0x1A6E_5E1F_0000_0000

_WRITE = "imageshelf_pg_write"
# Each engine (one per open Library) names itself, so the change bridge (pg_notify.py)
# can tell the changes its own process made (already announced) from other processes'.
_ORIGINS: dict[int, str] = {}

# The channel the change triggers (migration 0007) notify on.
CHANNEL = "imageshelf_changes"


def driver_url(url: str) -> str:
    """``postgresql://`` (or ``postgres://``) as SQLAlchemy's psycopg 3 URL."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def make_pg_engine(url: str) -> Engine:
    engine = create_engine(
        driver_url(url),
        pool_size=8,
        max_overflow=24,
        # The connection returned last is given next, as on SQLite (``engine``), for the
        # server's sake here: each connection is a backend process with its own caches
        # (catalogs, plans, the statements psycopg prepares after a few uses of one
        # connection). Taken in turn, a person's requests one after the other went round
        # every connection the pool had opened (five after a launch), each cold; on
        # one, 'sevilla catedral' took 3.1-3.6 ms a first page against 4.5-5.3
        # (docs/performance.md, 4 on PostgreSQL, session 12).
        pool_use_lifo=True,
        isolation_level="READ COMMITTED",
        connect_args={"connect_timeout": 10, "application_name": "imageshelf"},
    )
    _ping_when_idle(engine)
    origin = secrets.token_hex(8)
    _ORIGINS[id(engine)] = origin

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        if conn.get_execution_options().get(_WRITE):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            # Read by the change trigger into the NOTIFY payload (0007).
            conn.exec_driver_sql(
                "SELECT set_config('imageshelf.origin', %(o)s, true)", {"o": origin}
            )

    return engine


# A pooled connection idle at least this long is pinged before it is used again.
PING_AFTER_IDLE_S = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """A restarted server (or one that closed idle sessions): a connection the pool
    kept from before is found dead on checkout and the pool reconnects, as SQLAlchemy's
    ``pool_pre_ping`` does, but only for a connection idle ``PING_AFTER_IDLE_S`` or
    more. The ping is a round trip to the server, and a page read is 2-3 more: pinging
    before each one cost a busy server ~0.1-1 ms a request. A connection back in the
    pool within the second was used by a statement that succeeded then; a server
    restarted within that second fails the next statement, which SQLAlchemy sees as a
    disconnect and answers by emptying the pool, as on any lost connection."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, proxy) -> None:  # type: ignore[no-untyped-def]
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return  # just connected, or used a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception:  # e.g. AdminShutdown, read before psycopg marks it broken
            alive = False
        if not alive:
            raise exc.InvalidatePoolError("the database closed the connection")


def origin(engine: Engine) -> str:
    """This engine's name in the change notifications."""
    return _ORIGINS.get(id(engine), "")


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the library's write lock from its first statement."""
    with engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
        yield conn


def current_revision(engine: Engine) -> str | None:
    """The schema's Alembic revision, ``None`` for a new database."""
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
            return None
        value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if value is None else str(value)


def lock_for_migration(conn: Connection) -> None:
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATE_LOCK})")


_C_COLLATIONS = {"C", "POSIX", "C.UTF-8", "C.utf8"}


def check_database(engine: Engine) -> None:
    """Refuses a database whose text does not compare byte by byte (see the module)."""
    with engine.connect() as conn:
        # datlocprovider (PostgreSQL 15+; read through jsonb so older servers answer
        # too): 'i' is an ICU default collation, whatever datcollate says.
        name, collate, encoding, provider = conn.execute(
            text(
                "SELECT datname, datcollate, pg_encoding_to_char(encoding), "
                "to_jsonb(d) ->> 'datlocprovider' FROM pg_database d "
                "WHERE datname = current_database()"
            )
        ).one()
    if provider == "i":
        collate = "ICU"
    if collate not in _C_COLLATIONS or encoding != "UTF8":
        raise StorageError(
            f"The database {name} compares text by the {collate} collation in {encoding}; "
            "a team library needs byte order in UTF-8. Make the database with: CREATE "
            f"DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' "
            "LC_CTYPE 'C.UTF-8'."
        )


@contextlib.contextmanager
def singleton(engine: Engine, name: str) -> Iterator[bool]:
    """``True`` when this process is the one to do the background work ``name`` now
    (trash purge, EXIF fill, ...): a session advisory lock taken without waiting, held on
    a connection of its own until the block ends. ``False``: another process is on it."""
    key = _SINGLETON_BASE + zlib.crc32(name.encode())
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                with contextlib.suppress(Exception):  # a dropped connection released it
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()


def is_pg_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("psycopg")


# SQLSTATE classes and codes worth their own words; the rest quote the server.
_STATES = {
    "53100": "the database server's disk is full",
    "53200": "the database server is out of memory",
    "53300": "the database server has too many connections",
    "25006": "the database is read-only (a standby, or set read-only)",
    "57P01": "the database server is shutting down",
    "57P03": "the database server is starting up or shutting down",
    "28P01": "the database refused the password",
    "28000": "the database refused the user (check the user name and pg_hba.conf)",
    "3D000": "the database does not exist",
}


def reason(exc: BaseException) -> str:
    """What went wrong, in words a person can act on."""
    state = getattr(exc, "sqlstate", None)
    if state in _STATES:
        return _STATES[state]
    detail = str(exc).strip()
    low = detail.lower()
    if "connection refused" in low:
        return f"the database server refused the connection (is it running?): {detail}"
    if "password authentication failed" in low or "no password supplied" in low:
        return f"the database refused the user name or password: {detail}"
    if "does not exist" in low:
        return f"the database or user does not exist: {detail}"
    if "could not translate host name" in low or "name or service not known" in low:
        return f"the database server's host name is unknown: {detail}"
    if "timeout" in low:
        return f"the database server did not answer in time: {detail}"
    if state is not None and state.startswith("08"):
        return f"the connection to the database server was lost: {detail}"
    return f"the database reported: {detail}"
