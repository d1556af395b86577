"""The derived-file seam: thumbnails, transform results and location-free copies, read
and written through one small interface whatever keeps them.

Derived files are rebuilt on demand from an original, so a store may lose any of them at
any time; what it must never do is hand out half of one. Keys are ``/``-separated
(``thumbs/ab/ab12….jpg``, ``transforms/ab/ab12…/200x0-inside-q85.jpg``); the first part
names the kind, the part after the hash the variant, so "everything derived from this
content hash" is one prefix.

``FolderDerived`` keeps them in the library's ``.imageshelf`` folder, exactly where they
always were (``.imageshelf/thumbs/…``, ``.imageshelf/transforms/…``): a key is a path
under it, ``put`` writes a temporary file, fsyncs and renames it, ``open`` is a plain
``open``. The S3 store (``storage_s3_derived.py``) keeps them as objects."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Protocol

from .files import ATOMIC_PREFIX, write_into_cache

# The temporaries ``files.write_atomic`` makes next to the file it writes.
TMP_PREFIX: Final = ATOMIC_PREFIX


@dataclass(frozen=True, slots=True)
class DerivedEntry:
    key: str
    size: int
    mtime: float  # seconds since the epoch: when it was written or last marked used


class DerivedFiles(Protocol):
    def get(self, key: str) -> bytes | None:
        """The whole of ``key``, ``None`` when it is not kept."""
        ...

    def put(self, key: str, data: bytes) -> None:
        """Keeps ``data`` under ``key`` (replacing it): readers see all of it or nothing.
        ``OSError`` when it cannot be kept (a full or read-only disk)."""
        ...

    def open(self, key: str, offset: int = 0) -> BinaryIO:
        """The bytes of ``key`` from ``offset``; ``FileNotFoundError`` when not kept.
        An open file stays readable while the key is removed or replaced."""
        ...

    def exists(self, key: str) -> bool: ...

    def remove(self, key: str) -> None:
        """Removes ``key``; nothing when it is already gone."""
        ...

    def remove_prefix(self, prefix: str) -> None:
        """Removes every key that starts with ``prefix`` (``"transforms/ab/ab12…/"``)."""
        ...

    def list(self, prefix: str) -> Iterator[DerivedEntry]:
        """Every key under ``prefix`` with its size and time (what eviction orders by);
        ``OSError`` when the store cannot be listed."""
        ...

    def touch(self, key: str) -> None:
        """Marks ``key`` as used now, where the store can say so cheaply (best effort)."""
        ...

    def local_path(self, key: str) -> Path:
        """A file on this machine with the bytes of ``key`` (for code that can only read a
        file by name, such as Qt's image loader); ``FileNotFoundError`` when not kept."""
        ...


class FolderDerived:
    """Derived files under ``root`` (the library's ``.imageshelf`` folder)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = os.fspath(root)  # joined as text: the cached-result path is hot

    def path(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, data: bytes) -> None:
        write_into_cache(self.root / key, data)  # its folder may vanish meanwhile

    def open(self, key: str, offset: int = 0) -> BinaryIO:
        fp = open(os.path.join(self._root, key), "rb")  # noqa: SIM115 - the caller closes it
        if offset:
            fp.seek(offset)
        return fp

    def exists(self, key: str) -> bool:
        return os.path.exists(os.path.join(self._root, key))

    def remove(self, key: str) -> None:
        path = os.path.join(self._root, key)
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(path))  # only when that was its last file

    def remove_prefix(self, prefix: str) -> None:
        path = self.root / prefix
        if prefix.endswith("/"):
            shutil.rmtree(path, ignore_errors=True)
            return
        for found in path.parent.glob(path.name + "*"):
            if found.is_dir() and not found.is_symlink():
                shutil.rmtree(found, ignore_errors=True)
            else:
                found.unlink(missing_ok=True)

    def list(self, prefix: str) -> Iterator[DerivedEntry]:
        base = os.path.join(self.root, prefix)
        cut = len(os.fspath(self.root)) + 1
        for dirpath, _dirs, names in os.walk(base):
            for name in names:
                path = os.path.join(dirpath, name)
                if name.startswith(TMP_PREFIX):  # a write cut short by a crash
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                    continue
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                yield DerivedEntry(path[cut:].replace(os.sep, "/"), st.st_size, st.st_mtime)

    def touch(self, key: str) -> None:
        with contextlib.suppress(OSError):
            os.utime(os.path.join(self._root, key))

    def local_path(self, key: str) -> Path:
        return self.root / key
