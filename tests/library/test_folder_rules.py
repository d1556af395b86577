"""Folder paths: normalised as the contract says, refused with ``invalid_folder`` when they
break a rule, and never a path outside the library."""

from __future__ import annotations

import os

import pytest

from imageshelf.app.library import InvalidFolder, Library
from tests.conftest import image_bytes
from tests.library.helpers import library_files, on_disk

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

JPEG = image_bytes("JPEG")
DEEPEST = "/".join(f"l{i}" for i in range(1, 9))


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("/", None),
        (" / ", None),
        ("brand", "brand"),
        ("  /brand/  ", "brand"),
        ("/etc/passwd", "etc/passwd"),  # leading slash stripped: a folder inside the library
        ("clients/acme", "clients/acme"),
        ("Café 😀/مجلد", "Café 😀/مجلد"),
        (DEEPEST, DEEPEST),
        ("x" * 64, "x" * 64),
        ("😀" * 63, "😀" * 63),
        # Only the separators and control characters are refused, as the contract says.
        ("Trip: Paris", "Trip: Paris"),
        ('say "hi"?', 'say "hi"?'),
        ("a*b<c>d|e", "a*b<c>d|e"),
    ],
)
def test_folders_are_normalised(tmp_path, library: Library, add, sent, stored) -> None:
    rec = add(JPEG, "a.jpg", folder=sent)
    assert rec.folder == stored
    path = on_disk(library, rec)
    assert path.read_bytes() == JPEG
    assert path.resolve().is_relative_to(library.root)
    assert sorted(os.listdir(tmp_path)) == [library.root.name]


@pytest.mark.parametrize(
    "sent",
    [
        "..",
        "../outside",
        "a/../../b",
        ".",
        "./a",
        ".hidden",
        "a/.git",
        "a\\b",
        "..\\..\\windows",
        "C:\\x",
        "a//b",
        "a/ b",
        "a\x00b",
        "a\nb",
        "tab\there",
        "a/b\u202e",
        "x" * 65,
        "😀" * 64,  # 64 characters, but 256 bytes: more than a disk takes in one name
        DEEPEST + "/l9",
    ],
)
def test_bad_folders_are_refused_everywhere(library: Library, add, refused, sent) -> None:
    assert refused(JPEG, "a.jpg", folder=sent).code == "invalid_folder"
    rec = add(JPEG, "a.jpg", folder="ok")
    with pytest.raises(InvalidFolder):
        library.update(rec.id, folder=sent)
    assert library.get(rec.id) == rec
    assert on_disk(library, rec).read_bytes() == JPEG
    with pytest.raises(InvalidFolder):
        library.list_images(folder=sent)
    assert library_files(library.root) == ["ok", "ok/a.jpg"]


@pytest.mark.parametrize("sent", [42, b"bytes", ["a"]])
def test_a_folder_that_is_not_text_is_refused(refused, sent) -> None:
    assert refused(JPEG, "a.jpg", folder=sent).code == "invalid_folder"


def test_a_folder_where_a_file_of_that_name_exists_is_refused(library, add, refused) -> None:
    (library.root / "notes").write_text("mine")
    err = refused(JPEG, "a.jpg", folder="notes/sub")
    assert err.code == "invalid_folder" and "notes" in err.message
    rec = add(JPEG, "a.jpg")
    with pytest.raises(InvalidFolder):
        library.update(rec.id, folder="notes")
    assert library.get(rec.id) == rec and on_disk(library, rec).read_bytes() == JPEG
    assert (library.root / "notes").read_text() == "mine"


def test_unpaired_surrogates_in_folders_are_refused(refused) -> None:
    assert refused(JPEG, "a.jpg", folder="x\udc80y").code == "invalid_folder"
