"""A name sent again and again (``image.jpg`` from every iPhone) is numbered on, the
first free number first, and finding it reads a few rows, not every one taken before
(app/library/free_names.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from imageshelf.app.library import Library
from tests.conftest import image_bytes

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

JPEG = image_bytes("JPEG", (24, 16))


@pytest.fixture
def statements(library: Library) -> Iterator[list[str]]:
    """Every SQL statement the library's engine runs, as it runs. On SQLite, as the
    driver runs them: a new image's commit runs its statements on the driver's own
    connection (``Core.write_rows``), past SQLAlchemy's events."""
    seen: list[str] = []
    engine = library.core.engine
    if engine.dialect.name == "sqlite":

        def trace(dbapi_conn: Any, *_: Any) -> None:
            dbapi_conn.set_trace_callback(seen.append)

        def untrace(dbapi_conn: Any, *_: Any) -> None:
            dbapi_conn.set_trace_callback(None)

        event.listen(engine, "checkout", trace)
        event.listen(engine, "checkin", untrace)
        yield seen
        event.remove(engine, "checkout", trace)
        event.remove(engine, "checkin", untrace)
        return

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _add(library: Library, name: str = "image.jpg", folder: str | None = None) -> str:
    return library.add(io.BytesIO(JPEG), name, folder=folder).filename


def test_a_repeated_name_is_numbered_on_reading_few_rows(
    library: Library, statements: list[str]
) -> None:
    names = [_add(library) for _ in range(40)]
    assert names == ["image.jpg"] + [f"image-{n}.jpg" for n in range(2, 41)]
    # The names taken are read in full once, by the first upload; after it each upload
    # reads a few candidates from where the last one stopped.
    assert sum("filename >=" in s for s in statements) == 1
    assert sum("filename IN" in s for s in statements) == 39
    # Another folder, or another name, has its own numbering.
    assert _add(library, folder="trip") == "image.jpg"
    assert _add(library, "other.jpg") == "other.jpg"


def test_a_freed_name_is_given_again(library: Library) -> None:
    ids = [library.add(io.BytesIO(JPEG), "image.jpg").id for _ in range(5)]
    library.delete(ids[2])  # image-3.jpg
    assert _add(library) == "image-3.jpg"
    assert _add(library) == "image-6.jpg"


@pytest.mark.folder_only
def test_a_file_without_a_row_is_never_overwritten(library: Library) -> None:
    assert [_add(library) for _ in range(2)] == ["image.jpg", "image-2.jpg"]
    stranger = library.root / "image-3.jpg"
    stranger.write_bytes(b"not ours")  # appeared behind the library's back
    assert _add(library) == "image-4.jpg"
    assert _add(library) == "image-5.jpg"
    assert stranger.read_bytes() == b"not ours"


@pytest.mark.folder_only  # batches are the folder library's (group_commit.can_batch)
def test_names_of_a_batch_rolled_back_are_given_again(library: Library) -> None:
    from imageshelf.app.library import intake_batch
    from imageshelf.app.library.errors import LibraryError

    entries = [
        (library.prepare(io.BytesIO(JPEG), "same.jpg"), None),
        (library.prepare(io.BytesIO(JPEG), "same.jpg"), None),
        (library.prepare(io.BytesIO(JPEG), "same.jpg"), "../outside"),  # refused: all undone
    ]
    with pytest.raises(LibraryError):
        intake_batch.commit_many(library.core, entries)
    assert library.count() == 0
    assert [_add(library, "same.jpg") for _ in range(2)] == ["same.jpg", "same-2.jpg"]
