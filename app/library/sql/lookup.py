"""The ``/i`` fast path: one image by id, off SQLAlchemy.

DIALECT: ``RecordLookup`` is SQLite's (read-only ``sqlite3`` connections on the database
file); on PostgreSQL ``EngineLookup`` answers the same two calls with psycopg connections.
Both keep their connections in one ``_IdlePool``."""

from __future__ import annotations

import re
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Engine

from ..records import ImageRecord
from .rows import RECORD_COLUMNS, record


class _Closable(Protocol):
    def close(self) -> None: ...


_C = TypeVar("_C", bound=_Closable)


class _IdlePool(Generic[_C]):
    """Connections given back for the next reader, never more than the readers asking
    at one moment; after ``close`` none is handed out (``sqlite3.ProgrammingError``,
    which sends the caller the ordinary way) and one given back is closed."""

    def __init__(self, connect: Callable[[], _C]) -> None:
        self._connect = connect
        self._idle: list[_C] = []
        self._guard = threading.Lock()
        self._closed = False

    def acquire(self) -> _C:
        with self._guard:
            if self._closed:
                raise sqlite3.ProgrammingError("closed")
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def release(self, conn: _C) -> None:
        with self._guard:
            if not self._closed:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._guard:
            self._closed = True
            conns, self._idle = self._idle, []
        for conn in conns:
            conn.close()


class RecordLookup:
    """The hot single-row read — an image by id, for every ``/i/{id}`` request and every
    thumbnail the grid shows — on plain read-only ``sqlite3`` connections. Through
    SQLAlchemy (pool checkout, BEGIN, statement set-up, row mapping) it costs about 1 ms;
    here about 20 µs. Only reads committed rows (WAL), like any other reader.

    Connections are pooled, not kept per thread: the GUI's and the server's worker threads
    come and go, and a connection per thread that ever asked would pile up open files.
    There are never more than the threads asking at the same moment."""

    _SQL = f"SELECT {RECORD_COLUMNS} FROM images WHERE id = ?"

    def __init__(self, db_path: str) -> None:
        uri = "file:" + urllib.parse.quote(db_path) + "?mode=ro"

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA busy_timeout=30000")
            return conn

        self._pool = _IdlePool(connect)
        self._acquire = self._pool.acquire
        self._release = self._pool.release

    def image(self, image_id: str) -> ImageRecord | None:
        """The image, or ``None`` when there is no such row (or this path is closed):
        the caller then asks the ordinary way, which also tells gone from unknown."""
        try:
            conn = self._acquire()
        except sqlite3.Error:
            return None
        try:
            row = conn.execute(self._SQL, (image_id,)).fetchone()
        except sqlite3.Error:
            conn.close()  # a broken connection is not given back
            return None
        self._release(conn)
        return None if row is None else record(row)

    def first(self, sql: str, params: dict[str, object]) -> tuple[object, ...] | None:
        """The first row of another hot one-row read (an API key by its hash, on every
        request that carries one), or ``None``; ``sqlite3.Error`` when this path cannot
        answer (closed, broken): the caller then asks the ordinary way."""
        conn = self._acquire()
        try:
            row: tuple[object, ...] | None = conn.execute(sql, params).fetchone()
        except sqlite3.Error:
            conn.close()  # a broken connection is not given back
            raise
        self._release(conn)
        return row

    def close(self) -> None:
        """Closes the idle connections now; one in use is closed when it is given back."""
        self._pool.close()


class EngineLookup:
    """``RecordLookup``'s two calls on PostgreSQL: plain psycopg connections in
    autocommit, pooled the same way, so a read is one round trip (through the engine's
    pool it is three: the liveness ping, the query, the rollback on return). A broken
    connection (a server restart) is dropped and the read tried once more on a new one;
    ``None``/an error then sends the caller the ordinary way."""

    def __init__(self, engine: Engine) -> None:
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

        def connect() -> Any:
            import psycopg

            return psycopg.connect(conninfo, autocommit=True, connect_timeout=10)

        self._pool: _IdlePool[Any] = _IdlePool(connect)
        self._acquire = self._pool.acquire
        self._release = self._pool.release

    def _one(self, sql: str, params: dict[str, object]) -> tuple[object, ...] | None:
        import psycopg

        for attempt in (1, 2):
            conn = self._acquire()
            try:
                row: tuple[object, ...] | None = conn.execute(sql, params).fetchone()
            except psycopg.OperationalError:
                conn.close()  # broken: never given back
                if attempt == 2:
                    raise
                continue
            except BaseException:
                conn.close()
                raise
            self._release(conn)
            return row
        return None

    def image(self, image_id: str) -> ImageRecord | None:
        try:
            row = self._one(self._SQL, {"id": image_id})
        except Exception:  # the caller asks the ordinary way, which reports it in words
            return None
        return None if row is None else record(row)

    def first(self, sql: str, params: dict[str, object]) -> tuple[object, ...] | None:
        """``sql`` with ``:name`` parameters, as ``RecordLookup.first`` takes it."""
        try:
            return self._one(_PARAM.sub(r"%(\1)s", sql), params)
        except Exception as exc:  # the caller asks the ordinary way
            raise sqlite3.OperationalError(str(exc)) from exc

    def close(self) -> None:
        self._pool.close()

    _SQL = f"SELECT {RECORD_COLUMNS} FROM images WHERE id = %(id)s"


_PARAM = re.compile(r":(\w+)")
