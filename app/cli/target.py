"""Where a sub-command's work happens: directly on the library when no process holds it,
otherwise through the HTTP API of the process that does (the window or ``serve``), found
in ``.imageshelf/server.json``. Both answer with the API's image objects, so a command
prints the same thing either way."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final, Protocol

from ..library import (
    ImageRecord,
    Library,
    LibraryError,
    LibraryLocked,
    api_token,
    layout,
    rules,
)
from ..library.errors import Gone, NotFound
from .common import NOT_FOUND, UNREACHABLE, CommandError

TOKEN_ENV: Final = api_token.TOKEN_ENV
PAGE_SIZE = rules.MAX_PAGE_SIZE


class Target(Protocol):
    where: str  # for messages: "the library at …" / "the running Imageshelf at …"

    def images(
        self, *, folder: str | None = None, search: str | None = None, undescribed: bool = False
    ) -> Iterator[dict[str, Any]]: ...

    def add(self, path: Path, *, folder: str | None, alt_text: str | None) -> dict[str, Any]: ...

    def update(self, image_id: str, **changes: str | None) -> dict[str, Any]: ...

    def delete(self, image_id: str) -> None: ...

    def original(self, image_id: str) -> contextlib.AbstractContextManager[BinaryIO]: ...

    def close(self) -> None: ...


def library_exists(path: Path) -> bool:
    return (path / layout.META_DIR / layout.DB_FILE).is_file()


def open_target(path: Path, *, create: bool = False) -> Target:
    """The library itself when its lock is free, else the holder's API. ``create``:
    make a new library at ``path`` (``import``); the other commands refuse a folder that
    holds none rather than leave an empty library behind a typo."""
    path = path.expanduser()
    if not create and not library_exists(path):
        raise CommandError(
            f"There is no Imageshelf library at {path} (give --library DIR; "
            "'imageshelf import' creates one).",
            NOT_FOUND,
        )
    try:
        library = Library.open(path)
    except LibraryLocked as exc:
        from .http_target import HttpTarget, find_server

        url = find_server(path / layout.META_DIR)
        if url is None:
            raise CommandError(
                f"{exc.message} Its HTTP API is not running, so this command cannot go "
                "through it either; start the API (File → Server settings) or close it.",
                UNREACHABLE,
            ) from None
        return HttpTarget(url, token_for(path))
    except LibraryError as exc:
        raise CommandError(exc.message) from None
    from imageshelf.server import address

    address.remove_stale(library.meta)  # we hold the lock and serve nothing
    return DirectTarget(library)


def token_for(path: Path) -> str:
    """The token the serving process most likely uses: ``$IMAGESHELF_API_TOKEN`` (as
    ``serve`` prefers it), else the one kept in the library."""
    return api_token.from_environment() or api_token.read(path) or ""


class DirectTarget:
    def __init__(self, library: Library) -> None:
        self.library = library
        self.where = f"the library at {library.root}"

    @staticmethod
    def _json(record: ImageRecord) -> dict[str, Any]:
        """The API's image object; links are relative (``/i/ID``): no server runs."""
        from imageshelf.server.serialize import image_response

        return image_response(record, "")

    def images(
        self, *, folder: str | None = None, search: str | None = None, undescribed: bool = False
    ) -> Iterator[dict[str, Any]]:
        from ..library import ALL_FOLDERS

        page = 1
        while True:
            result = self.library.list_images(
                folder=ALL_FOLDERS if folder is None else folder,
                search=search,
                undescribed=undescribed,
                page=page,
                page_size=PAGE_SIZE,
            )
            yield from (self._json(r) for r in result.items)
            if page * PAGE_SIZE >= result.total or not result.items:
                return
            page += 1

    def add(self, path: Path, *, folder: str | None, alt_text: str | None) -> dict[str, Any]:
        # Duplicates are refused here, as the window's import does (the API accepts them).
        with _not_found(), open(path, "rb") as stream:
            record = self.library.add(
                stream, path.name, alt_text=alt_text, folder=folder, allow_duplicate=False
            )
        return self._json(record)

    def update(self, image_id: str, **changes: str | None) -> dict[str, Any]:
        with _not_found():
            return self._json(self.library.update(image_id, **changes))

    def delete(self, image_id: str) -> None:
        with _not_found():
            self.library.delete(image_id)

    @contextlib.contextmanager
    def original(self, image_id: str) -> Iterator[BinaryIO]:
        with _not_found():
            _record, stream = self.library.open_original(image_id)
        with stream:
            yield stream

    def close(self) -> None:
        self.library.close()


@contextlib.contextmanager
def _not_found() -> Iterator[None]:
    try:
        yield
    except (NotFound, Gone) as exc:
        raise CommandError(exc.message, NOT_FOUND) from None
    except LibraryError as exc:
        raise CommandError(exc.message) from None
