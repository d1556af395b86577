"""Folders as a person handles them: made empty, renamed, moved into another folder,
deleted; and the folders on disk, empty ones included.

The folder rule (docs/architecture.md, "Folders"): a folder is a real folder on disk.
The contract's "folders in use" (``Library.folders()``, ``GET /v3/images/folders``) are
the folders images have; when the last image leaves a folder the app removes it *if it
holds nothing else*. A folder a person makes, renames or moves in the app holds a small
marker file, ``.imageshelf-folder``, so it always holds something else and lasts until
the person deletes it; a folder an upload or a move created has none and goes with its
last image, as the contract says. The window shows every folder on disk.

A rename or move renames the one directory (atomic on POSIX, so every file moves at
once) between two commits, the way an image move does: the destination of each image
is first recorded as its ``pending_path`` intent, then the directory is renamed, then
the rows are updated. A kill in between is finished (directory already renamed) or
undone (not yet) by the next open's reconciliation, which already handles those intents
row by row."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from . import files, folders_keyed, layout, rules
from .errors import InvalidFolder, NotFound
from .events import Event, EventKind
from .records import FolderInfo, ImageRecord, now_us
from .sql import folders as folder_rows
from .sql import kept_folders, rows

if TYPE_CHECKING:
    from .core import Core

KEEP_MARKER = ".imageshelf-folder"
_MARKER_TEXT = (
    b"Imageshelf: this folder was made in the app, so it stays when it has no images.\n"
    b"Delete this file to let the app remove the folder once its last image leaves.\n"
)


def _required(folder: object, doing: str) -> str:
    normalized = rules.normalize_folder(folder)
    if normalized is None:
        raise InvalidFolder(f"The top level of the library cannot be {doing}.")
    return normalized


def mark_kept(path: Path) -> None:
    """Makes ``path`` a folder a person made: it stays when its last image leaves."""
    marker = path / KEEP_MARKER
    if marker.is_file():
        return
    # Written in place, not through a temporary file: only its existence counts, so a
    # kill mid-write leaves a marker (short, still a marker) and no stray temporary.
    with open(marker, "wb") as out:
        out.write(_MARKER_TEXT)
        out.flush()
        os.fsync(out.fileno())
    files.fsync_dir(path)


# --- reading ----------------------------------------------------------------------------


def disk_folders(root: Path) -> list[str]:
    """Every folder under ``root`` the library can hold (valid names, not hidden, not
    deeper than the rules allow), empty ones included. Directories only are looked at
    (``d_type``, no stat per file): a disk read, so the window asks from a worker."""
    found: list[str] = []

    def walk(path: Path, rel: str, depth: int) -> None:
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for entry in entries:
            if entry.name == layout.META_DIR and not rel:
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not is_dir:
                continue
            child = f"{rel}/{entry.name}" if rel else entry.name
            try:
                rules.check_folder_segment(entry.name)
                entry.name.encode("utf-8")
            except (InvalidFolder, UnicodeEncodeError):
                continue
            found.append(child)
            if depth + 1 < rules.MAX_FOLDER_DEPTH:
                walk(Path(entry.path), child, depth + 1)

    walk(root, "", 0)
    return sorted(found)


def standing_folders(core: Core) -> set[str]:
    """The folders that are there with or without images: on disk in a folder storage;
    the kept folders' rows on an object store (``folders_keyed.py``), which every
    process of a team library reads alike. Read from a worker."""
    if not core.storage.keys_follow_names:
        return folders_keyed.listed(core)
    return set(disk_folders(core.root))


def folder_tree(core: Core) -> list[FolderInfo]:
    """Every folder to show: those in use with their own counts, and those standing
    without images (count 0). Parents of either are included."""
    with core.read() as conn:
        counts = {f.path: f.count for f in rows.folder_counts(conn)}
    for path in standing_folders(core):
        counts.setdefault(path, 0)
    for path in list(counts):
        parts = path.split("/")
        for i in range(1, len(parts)):
            counts.setdefault("/".join(parts[:i]), 0)
    return [FolderInfo(p, counts[p]) for p in sorted(counts)]


# --- making and deleting ----------------------------------------------------------------


def make_folder(core: Core, folder: object) -> str:
    """Makes ``folder`` (and its parents) on disk, kept while empty. A folder that is
    already there is kept too. Returns the canonical path."""
    path_text = _required(folder, "made again")
    if not core.storage.keys_follow_names:
        with core.write_lock:
            folders_keyed.make(core, path_text)
        return path_text
    with core.write_lock, files.disk_errors(f"make the folder {path_text}"):
        created = files.make_folder(core.root, path_text)
        try:
            mark_kept(core.folder_path(path_text))
        except BaseException:
            for d in reversed(created):
                with contextlib.suppress(OSError):
                    d.rmdir()
            raise
    return path_text


def delete_folder(core: Core, folder: object) -> None:
    """Removes an empty folder and its empty sub-folders. A folder with images is refused
    here (``Library.delete_folder`` sends them to the trash first), as is one holding
    files the library does not know."""
    path_text = _required(folder, "deleted")
    if not core.storage.keys_follow_names:
        with core.write_lock:
            folders_keyed.delete(core, path_text)
        return
    with core.write_lock:
        base = _existing(core, path_text)
        with core.read() as conn:
            n = folder_rows.count_inside(conn, path_text)
        if n:
            raise folders_keyed.not_empty(path_text, n)
        dirs = check_nothing_else(core, path_text, known=set())
        with files.disk_errors(f"delete the folder {path_text}"):
            for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
                (d / KEEP_MARKER).unlink(missing_ok=True)
                d.rmdir()
            files.fsync_dir(base.parent)


def _existing(core: Core, path_text: str) -> Path:
    base = core.folder_path(path_text)
    if not base.is_dir() or base.is_symlink():
        raise NotFound(f"There is no folder {path_text!r} in the library.")
    return base


def check_nothing_else(core: Core, folder: object, *, known: set[str] | None = None) -> list[Path]:
    """The folder's directories, after making sure it holds nothing but markers and
    (``known=None``) the library's own images: ``InvalidFolder`` naming the files that
    deleting it would take along. Asked before any image goes to the trash, so a folder
    that cannot be deleted is left whole."""
    path_text = _required(folder, "deleted")
    if not core.storage.keys_follow_names:  # no directory: nothing but rows in it
        if not folders_keyed.exists(core, path_text):
            raise NotFound(f"There is no folder {path_text!r} in the library.")
        return []
    base = _existing(core, path_text)
    if known is None:
        with core.read() as conn:
            known = {r.relpath for r in folder_rows.records_inside(conn, path_text)}
    others: list[str] = []
    dirs: list[Path] = []
    with files.disk_errors(f"look into the folder {path_text}"):
        for current, subdirs, names in os.walk(base):
            dirs.append(Path(current))
            rel = Path(current).relative_to(core.root).as_posix()
            others += [
                f"{rel}/{n}" for n in names if n != KEEP_MARKER and f"{rel}/{n}" not in known
            ]
            # A symlink to a folder is a thing in the folder, not a folder of ours.
            others += [f"{rel}/{d}" for d in subdirs if Path(current, d).is_symlink()]
    if others:
        listed = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
        raise InvalidFolder(
            f"The folder {path_text!r} holds {len(others):,} file"
            f"{'s' if len(others) != 1 else ''} that {'are' if len(others) != 1 else 'is'}"
            f" not images of the library ({listed}). Remove them in the file manager "
            "first, or move them elsewhere."
        )
    return dirs


# --- renaming and moving ----------------------------------------------------------------


def rename_folder(core: Core, folder: object, new_name: str) -> str:
    """Gives ``folder`` the last segment ``new_name``, in the same parent."""
    src = _required(folder, "renamed")
    if not isinstance(new_name, str) or "/" in new_name.strip().strip("/"):
        raise InvalidFolder("A folder's new name cannot contain '/'; use Move to move it.")
    parent = src.rpartition("/")[0]
    name = new_name.strip()
    rules.check_folder_segment(name)
    return relocate(core, src, f"{parent}/{name}" if parent else name)


def move_folder(core: Core, folder: object, new_parent: object) -> str:
    """Moves ``folder`` (with everything in it) into ``new_parent`` (``None``: the top
    level), keeping its name."""
    src = _required(folder, "moved")
    parent = rules.normalize_folder(new_parent)
    name = src.rpartition("/")[2]
    return relocate(core, src, f"{parent}/{name}" if parent else name)


def relocate(core: Core, src: str, dst_text: str) -> str:
    """Moves the folder ``src`` to ``dst`` crash-safely, keeping every image's id, alt
    text and dates (``updated_at`` moves on, as for any change of folder). Returns the
    new path. Events: one ``UPDATED`` per image, after the commit."""
    dst = _required(dst_text, "a destination")
    if not core.storage.keys_follow_names:
        return _relocate_rows(core, src, dst)
    if not core.folder_path(src).is_dir():
        raise NotFound(f"There is no folder {src!r} in the library.")
    if dst == src:
        return dst
    if dst.startswith(src + "/"):
        raise InvalidFolder(f"The folder {src!r} cannot be moved into itself.")
    changes: list[tuple[ImageRecord, ImageRecord]] = []
    with core.write_lock:
        src_path = core.folder_path(src)
        dst_path = core.folder_path(dst)
        if not src_path.is_dir() or src_path.is_symlink():
            raise NotFound(f"There is no folder {src!r} in the library.")
        if dst_path.exists() or dst_path.is_symlink():
            raise InvalidFolder(
                f"There is already a folder or file named {dst!r}; choose another name."
            )
        for sub in _sub_folders(core, src):
            rules.normalize_folder(dst + sub[len(src) :])  # too deep, too long: refused here
        with core.read() as conn:
            before = folder_rows.records_inside(conn, src)
        parent = dst.rpartition("/")[0]
        renamed = False
        created: list[Path] = []
        try:
            with files.disk_errors(f"move the folder {src}"):
                if parent:
                    created = files.make_folder(core.root, parent)
                if before:
                    with core.write() as conn:  # the intent, first
                        folder_rows.set_pending_inside(conn, src, dst)
                os.rename(src_path, dst_path)
                renamed = True
                files.fsync_dir(dst_path.parent)
                files.fsync_dir(src_path.parent)
            if before:
                with core.write() as conn:
                    folder_rows.move_inside(conn, src, dst, now_us())
                    after = {r.id: r for r in folder_rows.records_inside(conn, dst)}
                changes = [(after[b.id], b) for b in before if b.id in after]
        except BaseException:
            if renamed:
                with contextlib.suppress(OSError):
                    os.rename(dst_path, src_path)
            for d in reversed(created):
                with contextlib.suppress(OSError):
                    d.rmdir()
            if before:
                with contextlib.suppress(Exception), core.write() as conn:
                    folder_rows.clear_pending_inside(conn, src)
            raise
        # A person renamed or moved it: it is theirs now, and stays when emptied.
        with contextlib.suppress(OSError):
            mark_kept(dst_path)
        # As when an image leaves: a parent left empty goes, unless it is kept.
        if "/" in src:
            files.remove_empty_folders(core.root, src.rpartition("/")[0])
    for after_record, before_record in changes:
        core.events.emit(Event(EventKind.UPDATED, after_record.id, after_record, before_record))
    return dst


def _relocate_rows(core: Core, src: str, dst: str) -> str:
    """``relocate`` on a storage keyed by image id (an object store): a folder is its
    rows, so the move is one commit and copies no byte — 10,000 images or one."""
    if dst == src:
        return dst
    if dst.startswith(src + "/"):
        raise InvalidFolder(f"The folder {src!r} cannot be moved into itself.")
    with core.write_lock:
        folders_keyed.check_free(core, src, dst)
        with core.read() as conn:
            before = folder_rows.records_inside(conn, src)
            kept = {p for p in kept_folders.all_paths(conn) if p == src or p.startswith(src + "/")}
        for sub in {r.folder or "" for r in before} | kept:
            rules.normalize_folder(dst + sub[len(src) :])  # too deep, too long: refused here
        with core.write() as conn:
            folder_rows.move_inside(conn, src, dst, now_us())
            kept_folders.move_inside(conn, src, dst)
            # A person renamed or moved it: it is theirs now, and stays when emptied.
            kept_folders.keep(conn, dst, now_us())
            after = {r.id: r for r in folder_rows.records_inside(conn, dst)}
    for b in before:
        if b.id in after:
            core.events.emit(Event(EventKind.UPDATED, b.id, after[b.id], b))
    return dst


def _sub_folders(core: Core, folder: str) -> set[str]:
    """``folder`` and every folder below it, on disk or in the database."""
    with core.read() as conn:
        found = folder_rows.folders_inside(conn, folder)
    found.add(folder)
    found.update(f"{folder}/{sub}" for sub in disk_folders(core.folder_path(folder)))
    return found
