"""``update`` moves files and changes alt text with the right timestamps; ``delete`` removes
the file and keeps the id as a tombstone; unknown ids are ``NotFound``."""

from __future__ import annotations

import io

import pytest

from imageshelf.app.library import Gone, Library, NotFound
from tests.conftest import image_bytes
from tests.library.helpers import library_files, on_disk

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

JPEG = image_bytes("JPEG")
PNG = image_bytes("PNG")


def test_moving_moves_the_file_on_disk(library: Library, add) -> None:
    rec = add(JPEG, "a.jpg", alt_text="kept")
    moved = library.update(rec.id, folder="clients/acme")
    assert (moved.folder, moved.filename, moved.alt_text) == ("clients/acme", "a.jpg", "kept")
    assert on_disk(library, moved).read_bytes() == JPEG
    assert not on_disk(library, rec).exists()
    assert library.get(rec.id) == moved
    assert library_files(library.root) == ["clients", "clients/acme", "clients/acme/a.jpg"]
    back = library.update(rec.id, folder="")
    assert back.folder is None and on_disk(library, back).read_bytes() == JPEG


def test_a_name_taken_in_the_target_gets_a_suffix(library: Library, add) -> None:
    there = add(PNG, "logo.png", folder="brand")
    here = add(JPEG, "logo.jpg")
    theirs = add(JPEG, "logo.jpg", folder="brand")
    moved = library.update(here.id, folder="brand")
    assert moved.filename == "logo-2.jpg"
    assert on_disk(library, moved).read_bytes() == JPEG
    assert on_disk(library, theirs).read_bytes() == JPEG
    assert on_disk(library, there).read_bytes() == PNG
    assert library.list_images(search="logo-2").items == [moved]  # the search follows the name


def test_alt_text_change_bumps_updated_at_never_created_at(library: Library, add) -> None:
    rec = add(JPEG)
    assert rec.updated_at_us == rec.created_at_us
    first = library.update(rec.id, alt_text="one")
    second = library.update(rec.id, alt_text="two")
    moved = library.update(rec.id, folder="x")
    stamps = [rec.updated_at_us, first.updated_at_us, second.updated_at_us, moved.updated_at_us]
    assert stamps == sorted(set(stamps))  # strictly increasing
    assert {r.created_at_us for r in (first, second, moved)} == {rec.created_at_us}


def test_an_update_that_changes_nothing_keeps_the_record(library: Library, add) -> None:
    rec = add(JPEG, alt_text="same", folder="f")
    assert library.update(rec.id) == rec
    assert library.update(rec.id, alt_text="same", folder=" f/ ") == rec


def test_alt_text_and_folder_together(library: Library, add) -> None:
    rec = add(JPEG)
    after = library.update(rec.id, alt_text="both", folder="b")
    assert (after.alt_text, after.folder) == ("both", "b")
    assert library.get(rec.id) == after


def test_delete_removes_the_file_and_keeps_a_tombstone(library_path) -> None:
    """Deleting trashes (tests/library/test_trash.py): the file leaves the library folder
    and the id answers 410; the thumbnail stays for the Trash view until the purge."""
    with Library.open(library_path) as lib:
        rec = lib.add(io.BytesIO(JPEG), "gone.jpg", folder="f")
        _, thumb = lib.thumbnail(rec.id)
        lib.delete(rec.id)
        assert not on_disk(lib, rec).exists()
        assert thumb.path.exists()
        assert library_files(lib.root) == []
        assert lib.list_images().total == 0
        for call in (
            lambda: lib.get(rec.id),
            lambda: lib.delete(rec.id),
            lambda: lib.update(rec.id, alt_text="x"),
            lambda: lib.thumbnail(rec.id),
            lambda: lib.open_original(rec.id),
        ):
            with pytest.raises(Gone) as info:
                call()
            assert info.value.code == "gone"
    with Library.open(library_path) as lib:
        with pytest.raises(Gone):
            lib.get(rec.id)
        lib.trash.purge(rec.id)
        assert not thumb.path.exists()
        with pytest.raises(Gone):
            lib.get(rec.id)


def test_deleting_one_of_two_identical_images_keeps_the_shared_thumbnail(
    library: Library, add
) -> None:
    one, two = add(JPEG, "one.jpg"), add(JPEG, "two.jpg")
    _, thumb = library.thumbnail(one.id)
    library.delete(one.id)
    assert thumb.path.exists()
    assert library.thumbnail(two.id)[1].path == thumb.path
    assert on_disk(library, two).read_bytes() == JPEG


@pytest.mark.parametrize(
    "bad_id",
    [
        "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B",  # well-formed, never issued
        "img_01jd8z3m4k7q2v9w5x6y7z8a9b",
        "nope",
        "",
        "img_",
        "../img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B",
        "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B'; DROP TABLE images;--",
        42,
        None,
    ],
)
def test_unknown_or_badly_shaped_ids_are_not_found(library: Library, add, bad_id) -> None:
    rec = add(JPEG)
    for call in (
        lambda: library.get(bad_id),
        lambda: library.update(bad_id, alt_text="x"),
        lambda: library.delete(bad_id),
        lambda: library.thumbnail(bad_id),
        lambda: library.open_original(bad_id),
    ):
        with pytest.raises(NotFound) as info:
            call()
        assert info.value.code == "not_found"
    assert library.list_images().items == [rec]
