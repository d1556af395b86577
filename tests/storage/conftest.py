"""The storage tests run each behaviour against both storages: the library folder
(``FolderStorage``) and a bucket on a real S3 server on loopback (``S3Storage`` against
moto's standalone server, ``tests/s3_server.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from imageshelf.app.library import Library, Storage, storage_from_url
from imageshelf.app.library.derived import DerivedFiles
from imageshelf.app.library.storage_s3 import S3Storage
from tests.s3_server import S3Server


@pytest.fixture(params=["folder", "s3"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Storage:
    """A storage of each kind, made from its address as a person writes it."""
    if kind == "folder":
        (tmp_path / "lib" / ".imageshelf" / "tmp").mkdir(parents=True)
        return storage_from_url(str(tmp_path / "lib"))
    bucket = request.getfixturevalue("s3_bucket")
    return storage_from_url(f"s3://{bucket}/team-a?path_style=1", tmp_path / "staging")


@pytest.fixture
def derived(store: Storage, tmp_path: Path) -> DerivedFiles:
    return store.derived_files(tmp_path / "lib" / ".imageshelf")


@pytest.fixture
def s3_storage(s3_bucket: str, tmp_path: Path, s3_server: S3Server) -> S3Storage:
    storage = storage_from_url(f"s3://{s3_bucket}/lib", tmp_path / "staging")
    assert isinstance(storage, S3Storage)
    return storage


@pytest.fixture(params=["sqlite", "postgresql"])
def s3_library(
    s3_storage: S3Storage, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Library]:
    """A Library whose images are in the bucket, its database SQLite in a local folder
    (``Library.open(path, storage=...)``) or a team library's PostgreSQL
    (``Library.open_team``, tests/pg_server.py)."""
    if request.param == "sqlite":
        lib = Library.open(tmp_path / "db", storage=s3_storage)
    else:
        lib = Library.open_team(request.getfixturevalue("pg_database"), s3_storage)
    with lib:
        # The chores of the open (the collection among them) done before the test
        # counts requests; the next round is an hour away.
        assert lib.wait_housekeeping(timeout=30)
        yield lib
