"""The storage seam: where the library's bytes live, behind a small interface.

``Storage`` is what the core asks of a place that keeps originals and temporary uploads:
stream in with a hash, open (from an offset, for ranges), place under a free name, link
to a second name (the first half of a move), remove, park for a delete, list. Keys are
what ``key(image_id, relpath)`` answers: in a folder the library-relative path with
``/`` (``"brand/logo.png"``; a root image has no folder), in a bucket the image id.

``FolderStorage`` implements it with the library folder on a local disk, with the
durability the crash-safe steps in ``file_steps.py`` rely on: a link never overwrites,
every rename or link is fsynced with its directory. ``S3Storage`` (``storage_s3.py``)
keeps a team library's originals in a bucket under keys that never move
(``keys_follow_names = False``: the image id), so there a move or a folder rename
changes rows only. ``storage_from_url`` (``storage_url.py``) picks one.

Derived files (thumbnails, transform results, location-free copies) go through the
derived-file seam (``derived.py``), which each storage provides (``derived_files``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, Final, Protocol

from . import disk_scan, files
from .derived import DerivedFiles, FolderDerived
from .disk_scan import DiskFile


class Storage(Protocol):
    # Whether a key is the image's folder and name (a folder: a move renames a file) or
    # something that never changes (an object store: keyed by image id, so moving and
    # renaming folders change rows only: ``file_steps.move``, ``folder_ops.relocate``).
    @property
    def keys_follow_names(self) -> bool: ...

    def key(self, image_id: str, relpath: str) -> str:
        """Where the original of ``image_id``, named ``relpath`` by its row, is kept."""
        ...

    def derived_files(self, meta: Path) -> DerivedFiles:
        """Where this library's thumbnails and transform results are kept (``meta``: the
        local ``.imageshelf`` folder)."""
        ...

    def local_path(self, key: str) -> Path:
        """A file on this machine with ``key``'s bytes, for code that reads by name (the
        transform workers); ``FileNotFoundError`` when absent."""
        ...

    def receive(self, limit: int) -> files.Incoming:
        """A sink to stream new bytes into, hashed and counted, refusing past ``limit``."""
        ...

    def open(self, key: str, offset: int = 0) -> BinaryIO:
        """The bytes of ``key`` from ``offset``; ``FileNotFoundError`` when absent."""
        ...

    def place(
        self, tmp: Path, folder: str | None, names: Iterable[str], *, image_id: str = ""
    ) -> tuple[str, list[str]]:
        """Gives the received file ``tmp`` of the new image ``image_id`` the first free
        name of ``names`` in ``folder`` (never overwriting); returns that name and the
        folders it had to create."""
        ...

    def link(self, key: str, new_key: str) -> bool:
        """A second name for ``key``'s bytes; False when ``new_key`` is taken."""
        ...

    def remove(self, key: str) -> None:
        """Removes ``key`` (durably); nothing when it is already gone."""
        ...

    def move(self, key: str, new_key: str) -> None:
        """Renames ``key`` to ``new_key`` (replacing it): a failed move put back."""
        ...

    def stat(self, key: str) -> tuple[int, int]:
        """``(size, mtime_ns)`` of ``key``, what reconciliation compares."""
        ...

    def make_folder(self, folder: str) -> list[str]:
        """Creates ``folder``; returns the folders it had to create, outermost first."""
        ...

    def check_writable(self, folder: str | None) -> None:
        """Refuses (``InvalidFolder``) a folder the library must not change files in."""
        ...

    def same_file(self, a: str, b: str) -> bool: ...

    def park(self, key: str, token: str) -> str | None:
        """Moves ``key`` out of the library under ``token`` (durably); returns the
        parked name, ``None`` when ``key`` was already gone."""
        ...

    def unpark(self, parked: str, key: str) -> None:
        """Puts a parked file back at ``key``."""
        ...

    def discard_parked(self, parked: str) -> None: ...

    def remove_folders(self, created: list[str]) -> None:
        """Removes the folders ``place`` made (innermost first) if they are empty."""
        ...

    def remove_empty_folders(self, folder: str) -> list[str]:
        """Removes ``folder`` and its parents while they are empty."""
        ...

    def exists(self, key: str) -> bool: ...

    def list_files(self, scope: list[str] | None = None) -> dict[str, DiskFile]:
        """Every image file (or those under ``scope``) with its size and mtime."""
        ...


class FolderStorage:
    """``Storage`` on the library folder itself (``root``), uploads in ``tmp_dir``."""

    keys_follow_names: Final = True

    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root = root
        self.tmp_dir = tmp_dir
        # ``open`` joins strings: ``root / key`` costs ~4 µs of pathlib per request, a
        # third of what the proxy adds to serving a file (benchmarks/bench_proxy.py).
        self._prefix = os.path.join(root, "")

    def key(self, image_id: str, relpath: str) -> str:
        return relpath

    def derived_files(self, meta: Path) -> DerivedFiles:
        return FolderDerived(meta)

    def local_path(self, key: str) -> Path:
        return self.root / key

    def path(self, key: str) -> Path:
        """The file of ``key`` on disk: for code that runs only on this storage (the
        window's "Show in file manager", the watcher)."""
        return self.root / key

    def receive(self, limit: int) -> files.Incoming:
        return files.Incoming(self.tmp_dir, limit)

    def open(self, key: str, offset: int = 0) -> BinaryIO:
        fp = open(self._prefix + key, "rb")  # noqa: SIM115 - the caller closes it
        if offset:
            fp.seek(offset)
        return fp

    def place(
        self, tmp: Path, folder: str | None, names: Iterable[str], *, image_id: str = ""
    ) -> tuple[str, list[str]]:
        made = files.make_folder(self.root, folder) if folder else []
        try:
            dest_dir = self.root / folder if folder else self.root
            name = files.place(tmp, dest_dir, names)
        except BaseException:
            self._rmdirs(made)
            raise
        return name, [p.relative_to(self.root).as_posix() for p in made]

    def make_folder(self, folder: str) -> list[str]:
        made = files.make_folder(self.root, folder)
        return [p.relative_to(self.root).as_posix() for p in made]

    def link(self, key: str, new_key: str) -> bool:
        try:
            os.link(self.root / key, self.root / new_key)
        except FileExistsError:
            return False
        files.fsync_dir((self.root / new_key).parent)
        return True

    def remove(self, key: str) -> None:
        path = self.root / key
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        files.fsync_dir(path.parent)

    def move(self, key: str, new_key: str) -> None:
        os.replace(self.root / key, self.root / new_key)
        files.fsync_dir((self.root / new_key).parent)

    def stat(self, key: str) -> tuple[int, int]:
        st = (self.root / key).stat()
        return st.st_size, st.st_mtime_ns

    def check_writable(self, folder: str | None) -> None:
        files.check_contained(self.root, folder)

    def park(self, key: str, token: str) -> str | None:
        path = self.root / key
        parked = self.tmp_dir / token
        try:
            os.replace(path, parked)
        except FileNotFoundError:
            return None
        # Durable before the caller commits: after a power cut the file must not
        # reappear in the folder (to be adopted as a new image) while its row is gone.
        files.fsync_dir(path.parent)
        return token

    def unpark(self, parked: str, key: str) -> None:
        os.replace(self.tmp_dir / parked, self.root / key)

    def discard_parked(self, parked: str) -> None:
        (self.tmp_dir / parked).unlink(missing_ok=True)

    def remove_folders(self, created: list[str]) -> None:
        self._rmdirs([self.root / c for c in created])

    def remove_empty_folders(self, folder: str) -> list[str]:
        return files.remove_empty_folders(self.root, folder)

    def exists(self, key: str) -> bool:
        return (self.root / key).exists()

    def same_file(self, a: str, b: str) -> bool:
        try:
            return os.path.samefile(self.root / a, self.root / b)
        except OSError:
            return False

    def list_files(self, scope: list[str] | None = None) -> dict[str, DiskFile]:
        return disk_scan.scan(self.root, scope)

    @staticmethod
    def _rmdirs(made: list[Path]) -> None:
        for d in reversed(made):
            with contextlib.suppress(OSError):
                d.rmdir()


def opens_at_once(store: object) -> bool:
    """Whether opening ``store``'s keys is only a local file's ``open`` (no network, no
    lock, nothing made): the server's socket loop may then open a file to send itself
    rather than hand the request to a thread (``server/proxy_lane.py``). waitress already
    reads the files it sends on that thread, so a slow disk is no new risk there."""
    return isinstance(store, (FolderStorage, FolderDerived))


def opened_size(fp: Any) -> int:
    """The whole length of a file the core opened: a disk file (``fstat``), an object of
    a store (its reader's ``size``: ``storage_s3_io.ObjectReader``), or bytes in memory.
    What ``Content-Length`` and Range answers are computed from."""
    raw = getattr(fp, "raw", fp)
    size = getattr(raw, "size", None)
    if isinstance(size, int):
        return size
    try:
        return os.fstat(fp.fileno()).st_size
    except (AttributeError, OSError):  # an in-memory result (io.BytesIO)
        return len(fp.getbuffer())
