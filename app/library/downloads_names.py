"""The names images get inside an archive (download jobs, the window's Export): one rule,
here, so an archive made by the API and one made by the window name files alike.

- ``entry_name(record)``: ``folder/filename`` (``filename`` for an image at the root),
  ``/`` between parts, as the contract says. A ``\\`` in a file name adopted from disk
  becomes ``_``: zip names use ``/`` only and Windows tools split on ``\\``.
- ``unique_entry_names(names)``: two images can have names that differ only in case or
  Unicode normalisation (``Logo.png`` and ``logo.png`` live side by side on Linux) and
  would overwrite each other when extracted on macOS or Windows. Names are compared
  case-folded and NFC-normalised; the first keeps its name, each later one gets the
  library's own sequence — ``logo-2.png``, ``logo-3.png`` — in its folder, skipping any
  name another entry already has."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from .records import ImageRecord


def entry_name(record: ImageRecord) -> str:
    return name_in_archive(record.folder, record.filename)


def name_in_archive(folder: str | None, filename: str) -> str:
    """``entry_name`` from the two parts (``None`` or ``""`` for the root)."""
    filename = filename.replace("\\", "_")
    return f"{folder}/{filename}" if folder else filename


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def _numbered(name: str, n: int) -> str:
    folder, _, filename = name.rpartition("/")
    dot = filename.rfind(".")
    stem, ext = (filename[:dot], filename[dot:]) if dot > 0 else (filename, "")
    numbered = f"{stem}-{n}{ext}"
    return f"{folder}/{numbered}" if folder else numbered


def unique_entry_names(names: Iterable[str]) -> list[str]:
    """``names`` in their order, each unique in the archive (see the module's rule)."""
    names = list(names)
    taken: set[str] = set()
    result: list[str | None] = []
    for name in names:  # first pass: every name that is the first of its kind stays
        key = _key(name)
        result.append(None if key in taken else name)
        taken.add(key)
    for i, name in enumerate(names):
        if result[i] is not None:
            continue
        n = 2
        while _key(candidate := _numbered(name, n)) in taken:
            n += 1
        taken.add(_key(candidate))
        result[i] = candidate
    return [name for name in result if name is not None]
