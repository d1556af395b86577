"""The trash's recovery at open: what a kill interrupted is finished or undone, in the
order ``trash_steps.py`` describes (a trash: the file in ``trash/`` means finish, else the
intent is dropped; a restore: both names mean undo, only the destination means finish),
rows whose file left ``trash/`` by other hands are purged, and files no row owns (a
purge killed after its commit) are removed."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from . import files
from .core import Core
from .records import folder_from_db, now_us
from .sql import owners, rows
from .sql import trash_rows as sql

log = logging.getLogger(__name__)


def trashed_path(trash_dir: Path, image_id: str, filename: str) -> Path:
    """Where a trashed original waits: its id (unique for ever) and its extension, so a
    person looking into the folder can still open it."""
    return trash_dir / (image_id + Path(filename).suffix.lower())


def recover(
    core: Core,
    trash_dir: Path,
    purge_ids: Callable[[list[str]], int],
    alive: set[int] | None = None,
) -> int:
    """Finishes or undoes a trash or restore a kill interrupted, drops rows whose
    file left ``trash/`` by other hands, and removes files no row owns (a purge
    killed after its commit). Runs at open, before the watcher and reconciliation.

    ``alive`` (a team library): only the steps whose owner is not in it are decided
    (``sql/owners.py``), and ``trash/`` is not swept: another live process may be
    between a file step and its commit. Returns how many steps were decided."""
    with core.write_lock, files.disk_errors("check the trash"):
        trash_dir.mkdir(exist_ok=True)
        with core.read() as conn:
            pending = sql.pending(conn)
        if alive is not None:
            pending = [p for p in pending if owners.is_dead(p.owner, alive)]
        for p in pending:
            if p.intent == sql.TRASHING:
                _recover_trashing(core, trash_dir, p)
            else:
                _recover_restoring(core, trash_dir, p)
        if alive is not None:
            return len(pending)
        with core.read() as conn:
            owned = {trashed_path(trash_dir, i, f).name: i for i, f in sql.files(conn)}
        on_disk = {entry.name for entry in os.scandir(trash_dir)}
        for name in on_disk - set(owned):
            with contextlib.suppress(OSError):
                (trash_dir / name).unlink()
        lost = [owned[name] for name in set(owned) - on_disk]
        if lost:
            log.warning("%d trashed images were removed from %s by hand", len(lost), trash_dir)
            purge_ids(lost)
    return len(pending)


def _recover_trashing(core: Core, trash_dir: Path, p: sql.PendingRow) -> None:
    image = p.image
    in_trash = trashed_path(trash_dir, image.id, image.filename).exists()
    with core.write() as conn:
        if in_trash:  # the rename happened: finish the trash
            rows.tombstone(conn, image.id, now_us())
            sql.settle(conn, image.id)
        else:  # it did not: the image is still live (or its file gone; reconcile tells)
            sql.drop(conn, image.id)
    if in_trash and image.folder:
        files.remove_empty_folders(core.root, image.folder)


def _recover_restoring(core: Core, trash_dir: Path, p: sql.PendingRow) -> None:
    image = p.image
    src = trashed_path(trash_dir, image.id, image.filename)
    dest_folder = folder_from_db(p.dest_folder)
    dest = core.path_of(dest_folder, p.dest_filename) if p.dest_filename else None
    with core.write() as conn:
        if src.exists():
            # Not unlinked from the trash yet: undo (drop the second name, if it is ours).
            if dest is not None and dest.exists() and _same_file(src, dest):
                dest.unlink()
            sql.settle(conn, image.id)
        elif (
            dest is not None
            and dest.exists()
            and not rows.exists_at(conn, dest_folder, p.dest_filename)
        ):
            # Unlinked from the trash, not committed: finish (a restore never changes
            # the folder, only maybe the name).
            sql.restore(conn, image, p.dest_filename, dest.stat().st_mtime_ns, now_us())
        else:
            # Neither name holds it: the file is lost; the id stays a tombstone.
            sql.drop(conn, image.id)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
