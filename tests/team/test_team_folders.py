"""Folders that stand without images on a team library whose storage is an object
store (folders_keyed.py, sql/kept_folders.py): a folder made through one process is
in the other's folder tree at once, heard as a change within a second, stays with no
image in it, renames and moves (with what is below it) and goes only when deleted.
Two Library objects stand in for two processes (each its own engine and listener)."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from imageshelf.app.library import Library, storage_from_url
from imageshelf.app.library.errors import InvalidFolder, NotFound
from tests.conftest import image_bytes
from tests.s3_server import S3Server, s3_bucket, s3_server

__all__ = ["s3_bucket", "s3_server"]


@pytest.fixture
def pair(
    pg_database: str, s3_bucket: str, s3_server: S3Server, tmp_path: Path
) -> Iterator[tuple[Library, Library]]:
    url = f"s3://{s3_bucket}/team"
    first = Library.open_team(pg_database, storage_from_url(url, tmp_path / "a"))
    second = Library.open_team(pg_database, storage_from_url(url, tmp_path / "b"))
    yield first, second
    second.close()
    first.close()


def _tree(lib: Library) -> dict[str, int]:
    return {f.path: f.count for f in lib.folder_tree()}


def test_a_folder_made_in_one_process_stands_empty_in_the_other(
    pair: tuple[Library, Library],
) -> None:
    first, second = pair
    heard = threading.Event()
    unsubscribe = second.on_folders_changed(heard.set)
    try:
        first.make_folder("clients/acme")
        assert heard.wait(10), "the other process was not told"
    finally:
        unsubscribe()
    assert "clients/acme" in second.standing_folders()
    assert _tree(second) == {"clients": 0, "clients/acme": 0}
    assert second.folders() == []  # GET /folders: folders in use only (docs/http-api.md)

    # An image in it, then out again: the folder a person made stays.
    rec = second.add(io.BytesIO(image_bytes("PNG")), "one.png", folder="clients/acme")
    assert _tree(first)["clients/acme"] == 1
    second.delete(rec.id)
    assert _tree(first) == {"clients": 0, "clients/acme": 0}

    # Renamed with what is below it; the new name is kept too.
    first.make_folder("clients/acme/2026")
    first.rename_folder("clients", "customers")
    assert second.standing_folders() == {"customers", "customers/acme", "customers/acme/2026"}
    second.make_folder("other")
    with pytest.raises(InvalidFolder):  # taken: a kept folder is a folder
        second.rename_folder("other", "customers")
    second.move_folder("customers/acme", "other")
    assert "other/acme/2026" in first.standing_folders()

    # Deleted: gone for both; a folder never made is not found.
    second.delete_folder("customers")
    second.delete_folder("other")
    assert first.standing_folders() == set()
    assert _tree(first) == {}
    with pytest.raises(NotFound):
        first.delete_folder("never")


def test_a_folder_an_upload_made_goes_with_its_last_image(pair: tuple[Library, Library]) -> None:
    first, second = pair
    rec = first.add(io.BytesIO(image_bytes("PNG")), "up.png", folder="uploads")
    assert _tree(second) == {"uploads": 1}
    assert second.standing_folders() == set()
    first.delete(rec.id)
    assert _tree(second) == {}


def test_deleting_a_folder_trashes_its_images_then_forgets_it(
    pair: tuple[Library, Library],
) -> None:
    first, second = pair
    first.make_folder("shoot")
    rec = first.add(io.BytesIO(image_bytes("JPEG")), "a.jpg", folder="shoot/day1")
    assert second.delete_folder("shoot") == [rec.id]
    assert second.trash.get(rec.id).image.folder == "shoot/day1"
    assert _tree(first) == {}
