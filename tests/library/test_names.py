"""Whatever name a client sends, the file lands inside the library under a safe, unique
name with the right extension, and the name as sent is kept for display."""

from __future__ import annotations

import os

import pytest

from tests.conftest import image_bytes
from tests.library.helpers import library_files, on_disk

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

JPEG = image_bytes("JPEG")


def only_the_library_was_written(tmp_path, library) -> None:
    assert sorted(os.listdir(tmp_path)) == [library.root.name]


@pytest.mark.parametrize(
    ("sent", "filename", "original"),
    [
        ("../../etc/passwd.png", "passwd.jpg", "passwd.png"),
        ("/etc/cron.d/evil.jpg", "evil.jpg", "evil.jpg"),
        ("C:\\x\\y.jpg", "y.jpg", "y.jpg"),
        ("..\\..\\boot.ini", "boot.jpg", "boot.ini"),
        ("a\x00b\x07c\nd.jpg", "abcd.jpg", "abcd.jpg"),
        (".hidden.jpg", "hidden.jpg", ".hidden.jpg"),
        ("...", "image.jpg", "..."),
        ("..", "image.jpg", ".."),
        ("", "image.jpg", "image"),
        ('we:ird*na?me"<>|.jpg', "we_ird_na_me____.jpg", 'we:ird*na?me"<>|.jpg'),
    ],
)
def test_path_tricks_in_names_stay_inside(tmp_path, library, add, sent, filename, original) -> None:
    rec = add(JPEG, sent)
    assert (rec.folder, rec.filename, rec.original_filename) == (None, filename, original)
    assert on_disk(library, rec).parent == library.root
    assert on_disk(library, rec).read_bytes() == JPEG
    only_the_library_was_written(tmp_path, library)


@pytest.mark.parametrize(
    "sent",
    ["café 😀 photo.jpg", "מסמך חשוב.jpg", "صورة.jpg", "日本語の写真.jpg", "Ünïcødé.JPEG"],
)
def test_unicode_names_are_kept(library, add, sent) -> None:
    rec = add(JPEG, sent)
    assert rec.original_filename == sent
    assert rec.filename == sent.rsplit(".", 1)[0] + ".jpg"
    assert library.get(rec.id).original_filename == sent


@pytest.mark.parametrize("stem", ["a" * 400, "é" * 300, "😀" * 200], ids=["ascii", "é", "emoji"])
def test_very_long_names_are_shortened_to_what_the_disk_takes(library, add, stem) -> None:
    rec = add(JPEG, stem + ".jpg")
    assert rec.filename.endswith(".jpg")
    assert len(rec.filename.encode()) <= 255
    assert on_disk(library, rec).read_bytes() == JPEG
    # The second one with the same long name still fits once suffixed.
    again = add(JPEG, stem + ".jpg")
    assert again.filename != rec.filename
    assert len(again.filename.encode()) <= 255


def test_names_are_unique_within_a_folder(library, add) -> None:
    png = image_bytes("PNG")
    names = [add(png, "logo.png").filename for _ in range(3)]
    assert names == ["logo.png", "logo-2.png", "logo-3.png"]
    assert add(png, "logo.png", folder="brand").filename == "logo.png"
    assert library_files(library.root) == [
        "brand",
        "brand/logo.png",
        "logo-2.png",
        "logo-3.png",
        "logo.png",
    ]


def test_a_file_we_do_not_know_is_never_overwritten(library, add) -> None:
    theirs = library.root / "taken.jpg"
    theirs.write_bytes(b"someone else's bytes")
    rec = add(JPEG, "taken.jpg")
    assert rec.filename == "taken-2.jpg"
    assert theirs.read_bytes() == b"someone else's bytes"


def test_a_name_whose_file_vanished_behind_our_back_is_not_reused(library, add) -> None:
    first = add(JPEG, "logo.jpg")
    on_disk(library, first).unlink()  # deleted outside; not reconciled yet
    second = add(JPEG, "logo.jpg")
    assert second.filename == "logo-2.jpg"
    other = add(JPEG, "logo.jpg", folder="f")
    moved = library.update(other.id, folder=None)
    assert moved.filename == "logo-3.jpg"
    assert on_disk(library, moved).read_bytes() == JPEG


def test_unpaired_surrogates_are_dropped_from_names(library, add) -> None:
    rec = add(JPEG, "n\ud800ame.jpg")
    assert (rec.filename, rec.original_filename) == ("name.jpg", "name.jpg")
    assert on_disk(library, rec).read_bytes() == JPEG
