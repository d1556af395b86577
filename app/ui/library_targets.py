"""What the window opens: a library folder (a ``Path``) or a team library (a
``LibraryAddress``: database and storage URLs), and how either is kept in the settings
(the last library, the recent ones) — a team library's database URL always without its
password (``library_address.public_database_url``): libpq's ``PGPASSWORD`` or
``~/.pgpass`` supply it when it is opened again, or the person is asked. No Qt here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeAlias

from imageshelf.app.library import InvalidInput
from imageshelf.app.library import library_address as addresses
from imageshelf.app.library.library_address import LibraryAddress

Target: TypeAlias = Path | LibraryAddress


def encode(target: Target) -> str:
    """For the settings: a folder's path, or a team library as a small JSON object."""
    if isinstance(target, Path):
        return str(target)
    assert target.database is not None
    public = addresses.public_database_url(target.database)
    return json.dumps({"database": public, "storage": target.storage}, sort_keys=True)


def decode(value: object) -> Target | None:
    """What ``encode`` wrote (``None`` for anything else: a setting edited by hand)."""
    if not isinstance(value, str) or not value:
        return None
    if not value.startswith("{"):
        return Path(value)
    try:
        found = json.loads(value)
        return addresses.team(found["database"], found["storage"])
    except (ValueError, KeyError, TypeError, InvalidInput):
        return None


def key(target: Target) -> str:
    """Equal for the same library: the resolved folder, or both addresses without a
    password."""
    if isinstance(target, Path):
        return str(target.expanduser().resolve())
    return encode(target)


def describe(target: Target) -> str:
    if isinstance(target, Path):
        return str(target)
    return target.describe()


def title(target: Target) -> str:
    """The window's title: the folder's name, or the team library's database name."""
    if isinstance(target, Path):
        return target.name or str(target)
    database = addresses.public_database_url(target.database or "")
    return "Team: " + (database.rsplit("/", 1)[-1].split("?")[0] or database)


def without_password(target: Target) -> Target:
    if isinstance(target, Path) or target.database is None:
        return target
    return LibraryAddress(
        database=addresses.public_database_url(target.database), storage=target.storage
    )
