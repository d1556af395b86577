"""Opening a team library: the database at a URL (PostgreSQL) and the originals in a
``Storage`` that several processes share. ``Library.open_team`` then starts what a team
process runs (the change bridge, singleton chores).

Unlike a folder library there is no process lock (the database arbitrates: writers queue
on its advisory lock, ``sql/pg_engine.py``), no watcher (nothing outside writes to the
storage) and no clearing of ``tmp/`` at open (another process may be receiving into a
shared one). Migrations run under an advisory lock, so processes starting together
migrate once. Derived files (thumbnails, transform caches) live under the storage's
folder when it has one, else in this machine's cache folder for the database."""

from __future__ import annotations

import hashlib
from pathlib import Path

from . import files, layout
from .core import Core
from .errors import StorageError
from .sql import pg_engine
from .sql.engine import database_errors, is_url, make_engine, migrate
from .sql.owners import ProcessOwner
from .storage import Storage


def derived_root(database_url: str, storage: Storage) -> Path:
    """Where this process keeps the team library's derived files."""
    root = getattr(storage, "root", None)
    if isinstance(root, Path):
        return root
    from platformdirs import user_cache_dir

    url = make_engine_url_safe(database_url)
    name = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(user_cache_dir("imageshelf")) / "team" / name


def make_engine_url_safe(database_url: str) -> str:
    """The URL without its password (a cache folder's name must not depend on it)."""
    from sqlalchemy.engine import make_url

    return make_url(pg_engine.driver_url(database_url)).set(password=None).render_as_string()


def open_team_core(database_url: str, storage: Storage) -> Core:
    """The core of a team library, its database migrated; ``StorageError`` (in words)
    when the database cannot be reached, refuses us or compares text wrongly."""
    if not isinstance(database_url, str) or not is_url(database_url):
        raise StorageError(f"{database_url!r} is not a database URL (postgresql://...).")
    if not pg_engine.driver_url(database_url).startswith("postgresql+"):
        raise StorageError("A team library's database is PostgreSQL (postgresql://...).")
    root = derived_root(database_url, storage)
    meta = root / layout.META_DIR
    with files.disk_errors(f"keep the team library's cached files in {meta}"):
        for d in (meta, meta / layout.THUMBS_DIR, meta / layout.TMP_DIR):
            d.mkdir(parents=True, exist_ok=True)
    engine = make_engine(database_url)
    where = make_engine_url_safe(database_url)
    try:
        with database_errors(f"open the team library at {where}"):
            pg_engine.check_database(engine)
            migrate(engine)
            owner = ProcessOwner(engine)
        core = Core(root, engine, storage)
        core.owner = owner
        return core
    except BaseException:
        engine.dispose()
        raise
