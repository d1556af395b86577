"""Folders on a storage whose folders are rows (an object store, a team library): there
is no directory to make, rename or hold a marker file, so a folder a person makes,
renames or moves is a ``kept_folders`` row (``sql/kept_folders.py``) that every process
of the library reads, and that stays, empty or not, until the person deletes it. A
folder an upload or a move made is its images' ``folder`` alone and goes with its last
image, as the contract says. ``folder_ops.py`` hands over here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import InvalidFolder, NotFound
from .records import now_us
from .sql import folders as folder_rows
from .sql import kept_folders

if TYPE_CHECKING:
    from .core import Core


def listed(core: Core) -> set[str]:
    """The folders that stand without images: the kept ones."""
    with core.read() as conn:
        return kept_folders.all_paths(conn)


def make(core: Core, folder: str) -> None:
    with core.write() as conn:
        kept_folders.keep(conn, folder, now_us())


def exists(core: Core, folder: str) -> bool:
    with core.read() as conn:
        return folder_rows.count_inside(conn, folder) > 0 or kept_folders.any_inside(conn, folder)


def not_empty(folder: str, n: int) -> InvalidFolder:
    """The refusal to delete ``folder`` while it (or a folder below it) holds ``n`` images."""
    return InvalidFolder(
        f"The folder {folder!r} holds {n:,} image{'s' if n != 1 else ''} "
        "(counting its sub-folders). Move or delete them first: a folder is only "
        "deleted when it is empty, so no image is lost with it."
    )


def delete(core: Core, folder: str) -> None:
    """Forgets an empty folder and the kept ones below it; one with images is refused
    (``Library.delete_folder`` trashes them first). Under the write lock."""
    with core.write() as conn:
        n = folder_rows.count_inside(conn, folder)
        if n:
            raise not_empty(folder, n)
        if not kept_folders.any_inside(conn, folder):
            raise NotFound(f"There is no folder {folder!r} in the library.")
        kept_folders.forget_inside(conn, folder)


def check_free(core: Core, src: str, dst: str) -> bool:
    """Whether ``src`` has images (``True``) or only kept folders (``False``);
    ``NotFound`` when it has neither, ``InvalidFolder`` when ``dst`` is taken."""
    with core.read() as conn:
        has_images = folder_rows.count_inside(conn, src) > 0
        if not has_images and not kept_folders.any_inside(conn, src):
            raise NotFound(f"There is no folder {src!r} in the library.")
        if folder_rows.count_inside(conn, dst) > 0 or kept_folders.any_inside(conn, dst):
            raise InvalidFolder(f"There is already a folder named {dst!r}; choose another name.")
    return has_images
