"""API keys (the contract's "API keys and scopes"): made, listed, revoked and checked
here, for the server, the window and ``imageshelf keys`` alike. No Flask: the server's
``auth.py`` turns a request's bearer token into a call to ``verify``.

A secret is ``isk_`` and 256 random bits, shown once when the key is made; the database
keeps its SHA-256 only. Why not bcrypt/scrypt/argon2: those are slow on purpose, to
make guessing a *person's* password (a few dozen bits) expensive. A 256-bit random
secret cannot be guessed whatever the hash costs, so the slowness would buy nothing and
cost every request tens of milliseconds of CPU (on a 2-core machine, the whole API's
throughput); a fast hash still means a copy of the database file gives nobody a working
key. The hash is also what finds the key: one read on a unique index, no secret compared
character by character.

``last_used`` is written at most once a minute per key (``rules.KEY_LAST_USED_EVERY_S``)
and never waits for the write lock: a busy library skips it, the next request writes it.

Every check reads the database, so a key revoked by another process (``imageshelf keys
revoke`` while the window serves) stops working at its very next request."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from . import rules
from .errors import InvalidInput, KeyExists, NotFound
from .folder_limit import FolderLimit
from .records import now_us
from .sql.engine import database_errors, write_transaction
from .sql.lookup import EngineLookup, RecordLookup

DAY_US = 86_400 * 1_000_000


class InvalidKey(InvalidInput):
    code = "invalid_key"


@dataclass(frozen=True, slots=True)
class ApiKey:
    name: str
    scope: str
    folders: tuple[str, ...] | None  # None: every folder
    created_at_us: int
    expires_at_us: int | None  # None: never
    last_used_at_us: int | None

    @property
    def grants(self) -> frozenset[str]:
        """The scopes this key holds (an ``edit`` key also reads and uploads)."""
        return rules.KEY_GRANTS[self.scope]

    @property
    def limit(self) -> FolderLimit | None:
        return None if self.folders is None else FolderLimit(self.folders)

    def expired(self, now: int | None = None) -> bool:
        return self.expires_at_us is not None and self.expires_at_us <= (now or now_us())


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def check_name(name: object) -> str:
    if not isinstance(name, str) or not re.fullmatch(rules.KEY_NAME_PATTERN, name):
        raise InvalidKey(
            "A key's name is 1 to 64 letters, digits, '.', '_' or '-', starting with a "
            f"letter or digit; got {name!r}."
        )
    return name


def check_scope(scope: object) -> str:
    if scope not in rules.KEY_SCOPES:
        raise InvalidKey(f"scope must be one of {', '.join(rules.KEY_SCOPES)}; got {scope!r}.")
    assert isinstance(scope, str)
    return scope


def check_folders(folders: object, scope: str) -> tuple[str, ...] | None:
    """The folders a key is limited to, normalised and without repeats; ``None`` (no
    limit) for ``None`` or an empty list. The root cannot be one (it holds everything
    below it: that is no limit), and an admin key is never limited: it manages the keys
    and empties the trash, which are the whole library's."""
    if folders is None:
        return None
    if not isinstance(folders, (list, tuple)):
        raise InvalidKey("folders must be a list of folder paths.")
    if len(folders) > rules.MAX_KEY_FOLDERS:
        raise InvalidKey(f"A key can be limited to at most {rules.MAX_KEY_FOLDERS} folders.")
    normalized: list[str] = []
    for folder in folders:
        path = rules.normalize_folder(folder)
        if path is None:
            raise InvalidKey(
                "The root is not a folder a key can be limited to (leave folders out)."
            )
        normalized.append(path)
    if not normalized:
        return None
    if scope == "admin":
        raise InvalidKey("An admin key cannot be limited to folders.")
    return tuple(dict.fromkeys(normalized))


def check_expires_days(days: object) -> int | None:
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidKey("expires_days must be a whole number of days.")
    if not 1 <= days <= rules.MAX_KEY_EXPIRES_DAYS:
        raise InvalidKey(f"expires_days must be from 1 to {rules.MAX_KEY_EXPIRES_DAYS}.")
    return days


_COLUMNS = "name, scope, folders, created_at, expires_at, last_used_at"


def _key(row: Sequence[Any]) -> ApiKey:
    name, scope, folders, created, expires, last_used = row
    return ApiKey(
        name=name,
        scope=scope,
        folders=None if folders is None else tuple(json.loads(folders)),
        created_at_us=created,
        expires_at_us=expires,
        last_used_at_us=last_used,
    )


class KeyStore:
    """The keys of one library database. ``write_lock`` is the library's (``Core``) when
    it is open in this process; ``imageshelf keys`` on a library another process holds
    passes its own (SQLite's lock then orders the two processes' writes)."""

    def __init__(
        self,
        engine: Engine,
        write_lock: threading.RLock | threading.Lock,
        lookup: RecordLookup | EngineLookup | None = None,
    ) -> None:
        self.engine = engine
        self.write_lock = write_lock
        # The library's plain-sqlite3 reader, for the per-request reads (SQLAlchemy's
        # connection checkout alone costs more than the whole indexed read).
        self.lookup = lookup
        self._used_written: dict[str, float] = {}  # name → monotonic time of the last write
        self._used_guard = threading.Lock()

    def create(
        self,
        name: object,
        scope: object,
        folders: object = None,
        expires_days: object = None,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret (shown once: only its hash is kept)."""
        name = check_name(name)
        scope = check_scope(scope)
        limited = check_folders(folders, scope)
        days = check_expires_days(expires_days)
        secret = rules.KEY_SECRET_PREFIX + secrets.token_urlsafe(32)
        created = now_us()
        key = ApiKey(
            name=name,
            scope=scope,
            folders=limited,
            created_at_us=created,
            expires_at_us=None if days is None else created + days * DAY_US,
            last_used_at_us=None,
        )
        with self._write("save the API key") as conn:
            taken = conn.execute(text("SELECT 1 FROM api_keys WHERE name = :n"), {"n": name})
            if taken.first() is not None:
                raise KeyExists(
                    f"There is already a key named {name!r}; revoke it or pick another name."
                )
            conn.execute(
                text(
                    "INSERT INTO api_keys (name, scope, folders, secret_hash, created_at, "
                    "expires_at, last_used_at) VALUES (:name, :scope, :folders, :hash, "
                    ":created, :expires, NULL)"
                ),
                {
                    "name": name,
                    "scope": scope,
                    "folders": None if limited is None else json.dumps(list(limited)),
                    "hash": hash_secret(secret),
                    "created": created,
                    "expires": key.expires_at_us,
                },
            )
        return key, secret

    def list(self) -> list[ApiKey]:
        with self._read() as conn:
            rows = conn.execute(text(f"SELECT {_COLUMNS} FROM api_keys ORDER BY name"))
            return [_key(r) for r in rows]

    def get(self, name: str) -> ApiKey:
        with self._read() as conn:
            row = conn.execute(
                text(f"SELECT {_COLUMNS} FROM api_keys WHERE name = :n"), {"n": name}
            ).first()
        if row is None:
            raise NotFound(f"There is no API key named {name!r}.")
        return _key(row)

    def revoke(self, name: str) -> None:
        """Deletes the key: its next request is ``401``. ``NotFound`` for an unknown name."""
        with self._write("revoke the API key") as conn:
            gone = conn.execute(text("DELETE FROM api_keys WHERE name = :n"), {"n": name})
            if gone.rowcount == 0:
                raise NotFound(f"There is no API key named {name!r}.")
        with self._used_guard:
            self._used_written.pop(name, None)

    def verify(self, secret: str) -> ApiKey | None:
        """The key whose secret this is (expired ones too: the caller says so), or
        ``None``. Notes the use (at most once a minute per key)."""
        if not secret.startswith(rules.KEY_SECRET_PREFIX):
            return None
        row = self._first(
            f"SELECT {_COLUMNS} FROM api_keys WHERE secret_hash = :h", {"h": hash_secret(secret)}
        )
        if row is None:
            return None
        key = _key(row)
        if not key.expired():
            self._note_use(key.name)
        return key

    def image_visible(self, limit: FolderLimit | None, image_id: str) -> bool:
        """Whether an image (live or in the trash) is inside ``limit``; ``True`` for an id
        the library has no folder for (unknown, purged): the route answers that as usual."""
        if limit is None:
            return True
        row = self._first(
            "SELECT folder FROM images WHERE id = :id "
            "UNION ALL SELECT folder FROM trash WHERE id = :id LIMIT 1",
            {"id": image_id},
        )
        return row is None or limit.allows(str(row[0]))

    # --- internals -------------------------------------------------------------------------

    def _first(self, sql: str, params: dict[str, object]) -> Sequence[Any] | None:
        """One row of a hot read: the fast reader when there is one, else SQLAlchemy."""
        if self.lookup is not None:
            with contextlib.suppress(sqlite3.Error):
                return self.lookup.first(sql, params)
        with self._read() as conn:
            return conn.execute(text(sql), params).first()

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with database_errors("read the API keys"), self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        with self.write_lock, database_errors(what), write_transaction(self.engine) as conn:
            yield conn

    def _note_use(self, name: str) -> None:
        now = time.monotonic()
        with self._used_guard:
            last = self._used_written.get(name)
            if last is not None and now - last < rules.KEY_LAST_USED_EVERY_S:
                return
            self._used_written[name] = now
        if not self.write_lock.acquire(blocking=False):  # a write is under way: next time
            with self._used_guard:
                self._used_written.pop(name, None)
            return
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(
                    text("UPDATE api_keys SET last_used_at = :t WHERE name = :n"),
                    {"t": now_us(), "n": name},
                )
        except (SQLAlchemyError, OSError):
            pass  # a read-only or full disk: the key works, its last use is not noted
        finally:
            self.write_lock.release()


__all__ = ["ApiKey", "InvalidKey", "KeyStore", "check_name", "hash_secret"]
