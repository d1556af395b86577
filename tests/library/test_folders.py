"""``folders()`` lists folders in use; a folder leaves the disk with its last image, unless
it holds something else."""

from __future__ import annotations

from imageshelf.app.library import Library
from tests.conftest import image_bytes
from tests.library.helpers import library_files

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

JPEG = image_bytes("JPEG")


def test_folders_are_sorted_without_the_root(library: Library, add) -> None:
    for folder in ["zoo", None, "brand/sub", "Brand", "brand", "", "clients/acme", "brand"]:
        add(JPEG, folder=folder)
    assert library.folders() == ["Brand", "brand", "brand/sub", "clients/acme", "zoo"]
    counts = {f.path: f.count for f in library.folder_counts()}
    assert counts == {"Brand": 1, "brand": 2, "brand/sub": 1, "clients/acme": 1, "zoo": 1}


def test_a_folder_goes_with_its_last_image_moved_out(library: Library, add) -> None:
    rec = add(JPEG, "a.jpg", folder="a/b")
    assert library.folders() == ["a/b"]
    library.update(rec.id, folder=None)
    assert library.folders() == []
    assert library_files(library.root) == ["a.jpg"]  # a/b and a removed from disk too


def test_a_folder_goes_with_its_last_image_deleted(library: Library, add) -> None:
    first = add(JPEG, "1.jpg", folder="two")
    second = add(JPEG, "2.jpg", folder="two")
    library.delete(first.id)
    assert library.folders() == ["two"]
    assert library_files(library.root) == ["two", "two/2.jpg"]
    library.delete(second.id)
    assert library.folders() == []
    assert library_files(library.root) == []


def test_a_folder_holding_other_files_stays_on_disk(library: Library, add) -> None:
    rec = add(JPEG, "a.jpg", folder="keep/inner")
    (library.root / "keep" / "notes.txt").write_text("mine")
    library.delete(rec.id)
    assert library.folders() == []
    assert library_files(library.root) == ["keep", "keep/notes.txt"]
    assert (library.root / "keep" / "notes.txt").read_text() == "mine"


def test_a_parent_folder_with_images_of_its_own_stays(library: Library, add) -> None:
    add(JPEG, "top.jpg", folder="p")
    child = add(JPEG, "child.jpg", folder="p/c")
    library.update(child.id, folder="elsewhere")
    assert library.folders() == ["elsewhere", "p"]
    assert library_files(library.root) == ["elsewhere", "elsewhere/child.jpg", "p", "p/top.jpg"]
