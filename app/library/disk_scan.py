"""What is in the library folder, as reconciliation sees it: image files by relative
path with their size and mtime (nothing is read), and the path arithmetic the reconciler
and the watcher share."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import NamedTuple

from . import files, rules
from .layout import META_DIR

# Tuples, not frozen dataclasses: reconciliation makes one of each per image at every
# start-up (100,000 of each at 100,000 images), and a frozen dataclass's ``__init__``
# sets each field through ``object.__setattr__``: ≈ 1.0 µs against ≈ 0.6 µs an object.


class KnownRow(NamedTuple):
    """What the database knows of an image's file: compared with a ``DiskFile``."""

    id: str
    relpath: str
    size: int
    mtime_ns: int
    sha256: str


class DiskFile(NamedTuple):
    relpath: str
    size: int
    mtime_ns: int

    @property
    def folder(self) -> str | None:
        return self.relpath.rsplit("/", 1)[0] if "/" in self.relpath else None

    @property
    def filename(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]


def split(relpath: str) -> tuple[str | None, str]:
    if "/" in relpath:
        folder, name = relpath.rsplit("/", 1)
        return folder, name
    return None, relpath


def ancestors(relpath: str) -> list[str]:
    """``a/b/c.jpg`` → ``["a", "a/b"]``: the folders a path lies in."""
    parts = relpath.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def in_scope(relpath: str, scope: list[str] | set[str] | frozenset[str] | None) -> bool:
    """Whether ``relpath`` is one of ``scope``'s paths or lies in one of its folders.
    A set lookup per ancestor, so a batch of thousands of paths stays cheap."""
    if scope is None:
        return True
    wanted = scope if isinstance(scope, set | frozenset) else set(scope)
    if "" in wanted or relpath in wanted:
        return True
    return any(a in wanted for a in ancestors(relpath))


def storable(name: str) -> bool:
    """Names the platform could not decode (stray bytes on Linux) cannot be stored or
    served; such files are left alone rather than breaking the whole reconciliation."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def scan(root: Path, scope: list[str] | None = None) -> dict[str, DiskFile]:
    """Every candidate image file under the library (or under ``scope``)."""
    found: dict[str, DiskFile] = {}
    starts = [""] if scope is None else scope
    for start in starts:
        base = root / start if start else root
        if start and files.through_link(root, start) is not None:
            continue  # reached through a link: outside the library, never adopted
        if base.is_file():
            _consider_file(start, base, found)
        elif base.is_dir():
            _walk(start, base, found)
    return found


def _walk(rel: str, path: Path, found: dict[str, DiskFile]) -> None:
    if rel and not rules.is_valid_folder(rel):
        return  # hidden, too deep or badly named folders are not part of the library
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        child = f"{rel}/{entry.name}" if rel else entry.name
        if not storable(entry.name):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != META_DIR:
                    _walk(child, Path(entry.path), found)
            elif entry.is_file(follow_symlinks=False) and rules.is_adoptable_filename(entry.name):
                st = entry.stat(follow_symlinks=False)
                found[child] = DiskFile(child, st.st_size, st.st_mtime_ns)
        except OSError:
            continue


def _consider_file(rel: str, path: Path, found: dict[str, DiskFile]) -> None:
    folder, name = split(rel)
    if folder is not None and not rules.is_valid_folder(folder):
        return
    if not storable(rel) or not rules.is_adoptable_filename(name) or path.is_symlink():
        return
    with contextlib.suppress(OSError):
        st = path.stat()
        found[rel] = DiskFile(rel, st.st_size, st.st_mtime_ns)
