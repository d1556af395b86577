"""``imageshelf keys create|list|revoke``: API keys, whether or not a process holds the
library.

Always straight on the database, never through the holder's HTTP API. Keys are rows of
their own that nothing else in the library refers to, and SQLite orders the writes of
two processes (every writer begins ``BEGIN IMMEDIATE`` and waits on the busy timeout),
so a write here is as safe under another process's lock as one the holder makes. The
holder reads the key on every request, so a key made or revoked here works (or stops
working) at its very next request. Going through the API instead would fail whenever
the window holds the library with its server off, and needs an admin token at hand.

A free library is opened as far as the database (taking the lock, migrating); a held
one only when its database is already at this version's schema (the holder migrated
it); an older holder is asked to be closed first. A team library (``--database``,
``--storage``, as ``serve`` takes them) has no lock: its database is opened as far as
its keys (``library_address.open_team_core``), beside any servers using it; every
server of it reads the key at its next request."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from ..library import LibraryError, LibraryLocked, layout, opening, rfc3339
from ..library import library_address as addresses
from ..library.errors import NotFound
from ..library.keys import ApiKey, KeyStore
from ..library.library_address import LibraryAddress
from ..library.sql.engine import at_head, make_engine
from .common import NOT_FOUND, OK, CommandError
from .target import library_exists


@contextlib.contextmanager
def open_keys(path: Path) -> Iterator[KeyStore]:
    path = path.expanduser()
    if not library_exists(path):
        raise CommandError(
            f"There is no Imageshelf library at {path} (give --library DIR).", NOT_FOUND
        )
    try:
        core, lock = opening.open_core(path)
    except LibraryLocked:
        engine = make_engine(path / layout.META_DIR / layout.DB_FILE)
        try:
            if not at_head(engine):
                raise CommandError(
                    f"The library at {path} is open in an Imageshelf of another version; "
                    "close it and run this again."
                ) from None
            yield KeyStore(engine, threading.Lock())
        finally:
            engine.dispose()
        return
    except LibraryError as exc:
        raise CommandError(exc.message) from None
    try:
        yield KeyStore(core.engine, core.write_lock)
    finally:
        core.close()
        lock.release()


def _when(value: int | None, none: str) -> str:
    return none if value is None else rfc3339(value)


def _row(key: ApiKey) -> dict[str, object]:
    return {
        "name": key.name,
        "scope": key.scope,
        "folders": None if key.folders is None else list(key.folders),
        "expires_at": _when(key.expires_at_us, "") or None,
        "created_at": rfc3339(key.created_at_us),
        "last_used_at": _when(key.last_used_at_us, "") or None,
    }


@contextlib.contextmanager
def open_team_keys(address: LibraryAddress) -> Iterator[KeyStore]:
    try:
        core = addresses.open_team_core(address)
    except LibraryError as exc:
        raise CommandError(exc.message) from None
    try:
        yield KeyStore(core.engine, core.write_lock, core.lookup)
    finally:
        core.close()


def keys_command(args: argparse.Namespace) -> int:
    action = getattr(args, "keys_action", None)
    address: LibraryAddress | None = getattr(args, "address", None)
    opened = open_keys(args.library) if address is None else open_team_keys(address)
    try:
        with opened as store:
            if action == "create":
                key, secret = store.create(
                    args.name, args.scope, args.folder or None, args.expires_days
                )
                # The secret alone on stdout (for $(...)); what it is on stderr.
                print(secret, flush=True)
                folders = ", ".join(key.folders) if key.folders else "every folder"
                print(
                    f"Made the {key.scope} key {key.name!r} ({folders}; expires "
                    f"{_when(key.expires_at_us, 'never')}). The secret above is shown only "
                    "this once: copy it now.",
                    file=sys.stderr,
                )
            elif action == "list":
                keys = store.list()
                if args.json:
                    print(json.dumps([_row(k) for k in keys], indent=2))
                else:
                    for k in keys:
                        folders = ",".join(k.folders) if k.folders else "*"
                        print(
                            "\t".join(
                                (
                                    k.name,
                                    k.scope,
                                    folders,
                                    _when(k.expires_at_us, "never"),
                                    _when(k.last_used_at_us, "unused"),
                                )
                            )
                        )
            else:
                store.revoke(args.name)
                print(f"Revoked the key {args.name!r}: it stops working at its next request.")
    except NotFound as exc:
        raise CommandError(exc.message, NOT_FOUND) from None
    except LibraryError as exc:
        raise CommandError(exc.message) from None
    return OK


def add_parser(
    command: Callable[[str, str, str], argparse.ArgumentParser],
    global_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """The ``keys`` sub-command and its three actions, on ``command`` (the parser's
    factory in ``__init__``); each action takes the global options too
    (``keys list --library DIR``)."""
    keys = command("keys", "keys", "API keys: create, list, revoke")
    actions = keys.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make a key; prints its secret once")
    create.add_argument("--name", required=True, help="what the key is called (and revoked by)")
    create.add_argument(
        "--scope", required=True, choices=("read", "upload", "edit", "admin"), help="what it may do"
    )
    create.add_argument(
        "--folder",
        action="append",
        metavar="F",
        help="limit the key to this folder and those below it (repeat for more)",
    )
    create.add_argument("--expires-days", type=int, metavar="N", help="expire after N days")
    lst = actions.add_parser("list", help="the keys: name, scope, folders, expires, last used")
    lst.add_argument("--json", action="store_true", help="as JSON")
    revoke = actions.add_parser("revoke", help="revoke a key: its next request is refused")
    revoke.add_argument("name", metavar="NAME")
    for action in (create, lst, revoke):
        global_options(action)
