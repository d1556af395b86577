"""What a test may look at in a library whatever keeps it — a folder, or a team
library's bucket: an original's stored bytes through the storage seam, and derived files
(thumbnails, transform results, location-free copies) through the derived-file seam, so
one assertion holds on both backends."""

from __future__ import annotations

from imageshelf.app.library import Library
from imageshelf.app.library.derived import DerivedEntry
from imageshelf.app.library.transform_cache import PREFIX as TRANSFORMS


def stored_bytes(library: Library, image_id: str) -> bytes:
    """The original of ``image_id`` as the library keeps it (never what /i serves)."""
    _, fp = library.open_original(image_id)
    with fp:
        return fp.read()


def remove_original_behind_its_back(library: Library, image_id: str) -> None:
    """Removes the stored original and leaves its row: a file deleted in the folder, an
    object deleted in the bucket, by someone else."""
    core = library.core
    core.storage.remove(core.key_of(library.get(image_id)))


def transform_files(library: Library, sha256: str = "") -> list[DerivedEntry]:
    """The transform cache's entries (all, or those of the original with ``sha256``), by
    key."""
    prefix = f"{TRANSFORMS}/{sha256[:2]}/{sha256}/" if sha256 else f"{TRANSFORMS}/"
    return sorted(library.core.derived.list(prefix), key=lambda e: e.key)


def name_of(entry: DerivedEntry) -> str:
    """The last part of a derived key: a transform result's variant name."""
    return entry.key.rsplit("/", 1)[-1]


def sha_of(entry: DerivedEntry) -> str:
    """The content hash a transform result belongs to (the part before its name)."""
    return entry.key.split("/")[-2]
