"""Where a library is: a folder, or a team library's two addresses (a PostgreSQL
database URL and a storage URL, ``s3://BUCKET[/PREFIX]`` or a folder). The command line
(``serve``, ``migrate``, the window's options) and the window's *Open team library…*
name libraries this way and open them through ``open_library``.

A database URL's password is never shown nor remembered: ``public_database_url`` strips
it (the window keeps that in its settings); libpq's own sources (``PGPASSWORD``,
``~/.pgpass``) or the person supply it when the library is opened again."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from . import layout, team_open
from .core import Core
from .errors import InvalidInput, LibraryError, NotFound, StorageError
from .library import Library
from .storage import Storage
from .storage_url import storage_from_url

_Opened = TypeVar("_Opened")

# The schemes SQLAlchemy reads as PostgreSQL (``postgres://`` is libpq's alias).
DATABASE_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")


@dataclass(frozen=True, slots=True)
class LibraryAddress:
    """A folder library (``folder``) or a team library (``database`` and ``storage``)."""

    folder: Path | None = None
    database: str | None = None
    storage: str | None = None

    @property
    def team(self) -> bool:
        return self.folder is None

    def describe(self) -> str:
        """For messages and titles: the folder, or both addresses without a password."""
        if self.folder is not None:
            return str(self.folder)
        return f"{public_database_url(self.database or '')} + {self.storage}"


def folder(path: str | os.PathLike[str]) -> LibraryAddress:
    return LibraryAddress(folder=Path(path).expanduser())


def team(database: str | None, storage: str | None, *, path_style: bool = False) -> LibraryAddress:
    """A team library's address, checked (``InvalidInput`` saying what is wrong);
    ``path_style``: the S3 bucket addressed in the path (``?path_style=1``)."""
    if not database or not storage:
        raise InvalidInput(
            "A team library needs both addresses: --database postgresql://USER@HOST/DB "
            "and --storage s3://BUCKET[/PREFIX]."
        )
    check_database_url(database)
    check_storage_url(storage)
    storage = storage.strip()
    if path_style and storage.startswith("s3://") and "path_style=" not in storage:
        storage += ("&" if "?" in storage else "?") + "path_style=1"
    return LibraryAddress(database=database.strip(), storage=storage)


def check_database_url(url: str) -> None:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise InvalidInput(f"The database URL is not a URL: {exc}.") from None
    if parts.scheme not in DATABASE_SCHEMES:
        raise InvalidInput(
            f"The database URL must start with postgresql:// (e.g. "
            f"postgresql://alice@db.example.org/imageshelf), not {public_database_url(url)!r}."
        )
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        raise InvalidInput(
            "The database URL names no database: add it after the host, as in "
            "postgresql://alice@db.example.org/imageshelf."
        )


def check_storage_url(url: str) -> None:
    value = url.strip()
    if value.startswith("s3://"):
        if not urlsplit(value).netloc:
            raise InvalidInput("The storage URL names no bucket: use s3://BUCKET[/PREFIX].")
        return
    if "://" in value and not value.startswith("file://"):
        raise InvalidInput(
            f"The storage URL must be s3://BUCKET[/PREFIX] or a folder, not {value!r}."
        )
    if not value:
        raise InvalidInput("The storage URL is empty: use s3://BUCKET[/PREFIX] or a folder.")


def public_database_url(url: str) -> str:
    """The URL without its password (``postgresql://alice@host/db``), for settings and
    messages; a URL that does not parse is shown as it is only when it has no ``@``."""
    try:
        parts = urlsplit(url)
        password = parts.password
        user = parts.username
        host = parts.hostname
        port = parts.port
    except ValueError:
        return url if "@" not in url else "(an unreadable database URL)"
    if password is None:
        return url
    netloc = (user or "") + "@" if user is not None else ""
    if host is not None:
        netloc += f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` put in (for an open; never stored)."""
    parts = urlsplit(url)
    user = quote(parts.username or "", safe="")
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def open_library(
    address: LibraryAddress, *, watch: bool = False, must_exist: bool = False
) -> Library:
    """Opens the library at ``address``: a folder (``watch``: follow outside changes;
    ``must_exist``: ``NotFound`` rather than making a new library there) or a team library
    (no lock, no watcher: the database arbitrates). Every failure is a ``LibraryError``
    with a message for a person (unreachable database, bad credentials, missing bucket)."""
    if address.folder is not None:
        if must_exist and not layout.meta_dir(address.folder).is_dir():
            raise NotFound(f"There is no Imageshelf library at {address.folder}.")
        return Library.open(address.folder, watch=watch)
    return open_team(address)


def open_team(address: LibraryAddress) -> Library:
    assert address.database is not None and address.storage is not None
    database = address.database
    return _in_words(address, lambda storage: Library.open_team(database, storage))


def open_team_core(address: LibraryAddress) -> Core:
    """The team library's core alone (its database migrated, this process an owner:
    ``sql/owners.py``), for a short command (``imageshelf keys``) that needs neither its
    change listener nor its background work; close it with ``close()``."""
    assert address.database is not None and address.storage is not None
    database = address.database
    return _in_words(address, lambda storage: team_open.open_team_core(database, storage))


def _in_words(address: LibraryAddress, opener: Callable[[Storage], _Opened]) -> _Opened:
    """``opener`` given the storage at ``address``; every failure a ``LibraryError`` for
    a person, without the database's password."""
    assert address.database is not None and address.storage is not None
    where = address.describe()
    try:
        storage = storage_from_url(address.storage)
        _probe(storage)
        library = opener(storage)
    except LibraryError as exc:
        said = " ".join(_without_password(exc.message, address.database).split())
        if said != exc.message:  # the driver's lines made one, a password hidden
            raise LibraryError(said) from None
        raise
    except Exception as exc:  # a driver's own error: said in one line, never a traceback
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        reason = " ".join(_without_password(reason, address.database).split())
        raise LibraryError(f"Could not open the team library {where}: {reason}") from exc
    return library


def _without_password(message: str, database: str) -> str:
    try:
        password = urlsplit(database).password
    except ValueError:
        return message
    return message.replace(password, "***") if password else message


def _probe(storage: Storage) -> None:
    """An object store asked once at open whether its bucket is there and readable, so
    that a wrong endpoint, missing credentials or a bucket that does not exist is said
    now, not at the first upload (nor taken for an empty library)."""
    client: Any = getattr(storage, "client", None)
    bucket = getattr(storage, "bucket", None)
    if client is None or not isinstance(bucket, str):
        return
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket"):
            raise StorageError(f"The bucket {bucket!r} does not exist at that endpoint.") from exc
        if code in ("403", "AccessDenied"):
            raise StorageError(
                f"The bucket {bucket!r} refuses these credentials (AWS_ACCESS_KEY_ID, ...)."
            ) from exc
        raise
