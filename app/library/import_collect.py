"""What dropping files and folders onto the library imports: each file to import with the
folder it goes to (``ImportItem``), and every file left out with its reason
(``Rejection``), so that a person is told about every one. The import itself is
``importer.ImportSession``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import rules
from .errors import InvalidFolder


@dataclass(frozen=True, slots=True)
class ImportItem:
    """One file to import and the folder it goes to."""

    path: Path
    folder: str | None


@dataclass(frozen=True, slots=True)
class Rejection:
    path: Path
    code: str  # the LibraryError code: unsupported_format, too_large, duplicate, ...
    message: str


def collect(paths: Iterable[Path], folder: str | None = None) -> list[ImportItem]:
    """What dropping ``paths`` onto ``folder`` imports (see ``collect_all``)."""
    return collect_all(paths, folder)[0]


def collect_all(
    paths: Iterable[Path], folder: str | None = None
) -> tuple[list[ImportItem], list[Rejection]]:
    """What dropping ``paths`` onto ``folder`` imports, and the files of dropped folders
    that are left out, each with its reason (hidden, not an image by its name), so a
    person is told about every file. A dropped file is always tried (so a PDF is
    reported as one); a dropped folder brings its image files, keeping its own name and
    its sub-folders as library folders."""
    items: list[ImportItem] = []
    skipped: list[Rejection] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            _walk_folder(path, _join(folder, path.name), items, skipped)
        elif path.exists():
            items.append(ImportItem(path, folder))
        else:
            skipped.append(Rejection(path, "unreadable", "The file is no longer there."))
    return items, skipped


def _join(folder: str | None, name: str) -> str | None:
    joined = f"{folder}/{name}" if folder else name
    try:
        return rules.normalize_folder(joined)
    except InvalidFolder:
        return folder  # a folder name the library can't hold: its images go to the target


HIDDEN = "hidden"  # a Rejection code of its own: skipped on purpose, not refused


def _walk_folder(
    path: Path, folder: str | None, items: list[ImportItem], skipped: list[Rejection]
) -> None:
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as exc:
        skipped.append(Rejection(path, "unreadable", f"The folder could not be read: {exc}."))
        return
    for entry in entries:
        entry_path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = entry.is_file()
        except OSError:
            is_dir = is_file = False
        if entry.name.startswith("."):
            what = "folder (and everything in it)" if is_dir else "file"
            skipped.append(Rejection(entry_path, HIDDEN, f"Hidden {what}, skipped on purpose."))
        elif is_dir:
            _walk_folder(entry_path, _join(folder, entry.name), items, skipped)
        elif is_file and rules.is_adoptable_filename(entry.name):
            items.append(ImportItem(entry_path, folder))
        elif is_file:
            skipped.append(
                Rejection(
                    entry_path,
                    "unsupported_format",
                    f"Not a {rules.HUMAN_FORMAT_LIST} image, by its name.",
                )
            )
