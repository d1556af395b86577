"""What a server test asks of a library that holds on both backends (a folder library,
a team library on PostgreSQL + S3): where the bytes are, which folders it shows, what
the database holds, another connection to it. Each answer goes through the library's
storage interface or its database, never through a folder only one backend has."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

from imageshelf.app.library import Library, layout
from imageshelf.app.library.sql.engine import make_engine


def holds_original(library: Library, image_id: str) -> bool:
    """Whether the storage holds a live image's original where its row says."""
    record = library.get(image_id)
    return library.core.storage.exists(library.core.key_of(record))


def holds_trashed_bytes(library: Library, image_id: str) -> bool:
    """Whether the library still keeps a trashed image's bytes: a folder library moves
    the file into its trash folder (named by the id, its extension kept); a team library
    keeps the object of its id."""
    store = library.core.storage
    if store.keys_follow_names:
        return any(p.stem == image_id for p in library.trash.dir.iterdir())
    return store.exists(store.key(image_id, ""))


def folder_paths(library: Library) -> set[str]:
    """Every folder the library shows (in use, kept while empty, and their parents)."""
    return {f.path for f in library.folder_tree()}


def database_text(library: Library) -> str:
    """Every row of every table as text: what the database holds, on either engine."""
    engine = library.core.engine
    parts: list[str] = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                parts.append(f"{table}: {tuple(row)!r}")
    return "\n".join(parts)


def database_files(library: Library) -> list[Path]:
    """A folder library's SQLite files (the database, its WAL); none for a team one."""
    if library.core.engine.dialect.name != "sqlite":
        return []
    meta = library.meta
    return [p for p in meta.iterdir() if p.name.startswith(layout.DB_FILE)]


def another_engine(library: Library) -> Engine:
    """A second engine on the library's database, as another process opens it."""
    if library.core.engine.dialect.name == "sqlite":
        return make_engine(library.meta / layout.DB_FILE)
    return make_engine(library.core.engine.url.render_as_string(hide_password=False))


def remove_trashed_bytes(library: Library, image_id: str) -> None:
    """A trashed image's bytes taken away by hand (from the trash folder, from the
    bucket), as a person cleaning up outside the library does."""
    store = library.core.storage
    if store.keys_follow_names:
        gone = [p for p in library.trash.dir.iterdir() if p.stem == image_id]
        assert gone, f"{image_id} is not in {library.trash.dir}"
        for p in gone:
            p.unlink()
    else:
        store.remove(store.key(image_id, ""))


def quiet(library: Library, timeout: float = 60.0) -> None:
    """Waits until the work a library starts at open (its housekeeping round, the trash
    keeper's first look) is done, so no background write holds the write lock: what a
    test of a write that a busy moment skips by design (a key's ``last_used_at``) needs
    first. Slower on a team library, whose chores claim PostgreSQL locks."""
    assert library.wait_housekeeping(timeout), "housekeeping did not finish a round"
    assert library.trash.wait_for_retention(timeout), "the trash keeper did not look"
