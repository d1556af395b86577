"""Fixtures shared by the library tests: adding from bytes, and proving that a refused
write left nothing behind."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from imageshelf.app.library import Library, LibraryError
from imageshelf.app.library.layout import META_DIR
from imageshelf.app.library.records import ImageRecord
from imageshelf.app.library.watcher import WatchTimings
from tests.library.helpers import library_files, row_count, thumbnail_files, tmp_leftovers
from tests.library.test_watcher_support import EventLog
from tests.pg_server import folder_storage

AddBytes = Callable[..., ImageRecord]


@pytest.fixture(scope="session")
def empty_library_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``.imageshelf`` folder of a new, closed library: creating the schema costs
    ~60 ms, copying it ~5 ms, and the library tests open a few hundred libraries."""
    root = tmp_path_factory.mktemp("template") / "library"
    Library.open(root).close()
    return root / META_DIR


@pytest.fixture
def library_path(tmp_path: Path, empty_library_template: Path) -> Path:
    """Where the test's library lives: an empty library, already created (overrides the
    root conftest's fresh path; ``Library.open`` treats both alike)."""
    path = tmp_path / "Library ñ"
    shutil.copytree(empty_library_template, path / META_DIR)
    return path


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "folder_only: in a BOTH_BACKENDS module, a test of SQLite's own parts"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module that sets ``BOTH_BACKENDS = True`` runs each test using ``library`` on a
    folder library and on a team library (PostgreSQL, tests/pg_server.py; a folder as
    its storage): the core's behaviour, proven on both databases without a copy."""
    if "backend" not in metafunc.fixturenames or not getattr(metafunc.module, "BOTH_BACKENDS", 0):
        return
    if metafunc.definition.get_closest_marker("folder_only") is None:
        metafunc.parametrize("backend", ["folder", "team"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "folder"))


@pytest.fixture
def library(library_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Library]:
    if backend == "team":
        url = request.getfixturevalue("pg_database")
        lib = Library.open_team(url, folder_storage(library_path))
    else:
        lib = Library.open(library_path)
    yield lib
    lib.close()


@pytest.fixture
def add(library: Library) -> AddBytes:
    """``add(data, name="a.jpg", alt_text=None, folder=None)`` on the test library."""

    def _add(
        data: bytes,
        name: str | None = "image.jpg",
        alt_text: str | None = None,
        folder: str | None = None,
    ) -> ImageRecord:
        return library.add(io.BytesIO(data), name, alt_text=alt_text, folder=folder)

    return _add


@pytest.fixture
def refused(library: Library) -> Callable[..., LibraryError]:
    """``refused(data, name, folder=..., alt_text=...)``: adds, expects a ``LibraryError``,
    checks that nothing at all was left behind, and returns the error."""

    def _refused(data: bytes | io.RawIOBase, name: str | None = "image.jpg", **kw) -> LibraryError:
        before_files = library_files(library.root)
        before_rows = row_count(library)
        before_folders = library.folders()
        before_thumbs = thumbnail_files(library)
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        with pytest.raises(LibraryError) as info:
            library.add(stream, name, **kw)
        assert row_count(library) == before_rows
        assert library_files(library.root) == before_files
        assert tmp_leftovers(library) == []
        assert library.folders() == before_folders
        assert thumbnail_files(library) == before_thumbs
        return info.value

    return _refused


# The watcher's waits shortened: the tests wait on its events and ``wait_watcher_idle``,
# so shorter waits only make them quicker. Settling stays long enough for a file written
# in two steps by a test to be seen as still being written.
QUICK = WatchTimings(debounce=0.1, settle=0.1, max_batch_delay=1.0, hold=1.0)


@pytest.fixture
def watched(library_path: Path) -> Iterator[Library]:
    """A library with its watcher running, as the window and ``imageshelf serve`` open it."""
    lib = Library.open(library_path, watch=True, watch_timings=QUICK)
    yield lib
    lib.close()


@pytest.fixture
def log(watched: Library) -> EventLog:
    return EventLog(watched)
