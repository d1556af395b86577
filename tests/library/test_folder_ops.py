"""Folders a person handles: made empty and kept, renamed and moved with every image
(ids, alt text and bytes kept), deleted only when empty; the folder rule beside the
contract's "folders in use"."""

from __future__ import annotations

import pytest

from imageshelf.app.library import Gone, InvalidFolder, Library, NotFound
from imageshelf.app.library.folder_ops import KEEP_MARKER, disk_folders
from tests.library.conftest import AddBytes
from tests.library.helpers import sha256

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py


def _jpeg(make_image, n: int) -> bytes:
    return make_image("JPEG", size=(30 + n, 20), color=(n * 40 % 256, 90, 20))


def test_new_folder_is_on_disk_shown_empty_and_lasts(library_path, make_image) -> None:
    with Library.open(library_path) as lib:
        assert lib.make_folder(" Trips/Ñandú ") == "Trips/Ñandú"
        assert (library_path / "Trips" / "Ñandú").is_dir()
        assert ("Trips/Ñandú", 0) in [(f.path, f.count) for f in lib.folder_tree()]
        assert lib.folders() == []  # the contract's folders in use: none yet
    with Library.open(library_path) as lib:  # reconciled at open: still there
        assert [f.path for f in lib.folder_tree()] == ["Trips", "Trips/Ñandú"]


def test_a_made_folder_stays_when_its_last_image_leaves(
    library: Library, add: AddBytes, make_image
):
    library.make_folder("kept")
    rec = add(_jpeg(make_image, 1), "a.jpg", folder="kept")
    assert library.folders() == ["kept"]
    library.delete(rec.id)
    assert (library.root / "kept").is_dir()
    assert library.folders() == []  # not in use, but shown
    assert "kept" in [f.path for f in library.folder_tree()]


def test_an_upload_folder_still_goes_with_its_last_image(
    library: Library, add: AddBytes, make_image
):
    rec = add(_jpeg(make_image, 1), "a.jpg", folder="uploads/x")
    library.delete(rec.id)
    assert not (library.root / "uploads").exists()
    assert library.folder_tree() == []


def test_an_empty_folder_made_outside_appears(library: Library) -> None:
    (library.root / "made outside" / "deeper").mkdir(parents=True)
    (library.root / ".hidden").mkdir()
    (library.root / "bad\\name").mkdir()
    assert [f.path for f in library.folder_tree()] == ["made outside", "made outside/deeper"]
    assert disk_folders(library.root) == ["made outside", "made outside/deeper"]


def test_rename_moves_every_file_and_keeps_ids_and_alt_text(
    library: Library, add: AddBytes, make_image
) -> None:
    data = {}
    for i, folder in enumerate(["a", "a", "a/b", "a/b/c", "ab", None]):
        blob = _jpeg(make_image, i)
        rec = add(blob, f"img{i}.jpg", alt_text=f"alt {i}", folder=folder)
        data[rec.id] = (rec, blob)
    seen = []
    library.subscribe(seen.append)
    assert library.rename_folder("a", "Alpha é") == "Alpha é"
    assert not (library.root / "a").exists()
    for image_id, (before, blob) in data.items():
        after = library.get(image_id)
        assert after.alt_text == before.alt_text
        assert after.filename == before.filename
        assert after.created_at == before.created_at
        if before.folder and (before.folder == "a" or before.folder.startswith("a/")):
            assert after.folder == "Alpha é" + before.folder[1:]
            assert after.updated_at > before.updated_at
        else:
            assert after == before  # "ab" and the root are not inside "a"
        path = library.root / after.relpath
        assert sha256(path.read_bytes()) == sha256(blob)
    assert len(seen) == 4 and all(e.kind.value == "updated" for e in seen)
    assert library.count(folder="Alpha é", recursive=True) == 4
    assert (library.root / "Alpha é" / KEEP_MARKER).is_file()


def test_move_folder_into_another_and_back_to_the_top(library: Library, add: AddBytes, make_image):
    rec = add(_jpeg(make_image, 1), "x.jpg", alt_text="x", folder="src/inner")
    library.make_folder("dest")
    assert library.move_folder("src", "dest") == "dest/src"
    assert library.get(rec.id).folder == "dest/src/inner"
    assert library.move_folder("dest/src/inner", None) == "inner"
    assert library.get(rec.id).folder == "inner"
    assert (library.root / "inner" / "x.jpg").is_file()


@pytest.mark.parametrize(
    ("src", "dest", "why"),
    [
        ("a", "a/b", "into itself"),
        ("a", "taken", "already a folder"),
        ("missing", None, "no folder"),
    ],
)
def test_moves_that_cannot_be(library: Library, src, dest, why) -> None:
    library.make_folder("a/b")
    library.make_folder("taken/a")
    with pytest.raises((InvalidFolder, NotFound), match=why):
        library.move_folder(src, dest)
    assert (library.root / "a" / "b").is_dir()


def test_rename_refuses_bad_names_and_too_deep(library: Library) -> None:
    library.make_folder("x/" + "/".join(["d"] * 6))
    with pytest.raises(InvalidFolder):
        library.rename_folder("x", "a/b")
    with pytest.raises(InvalidFolder):
        library.rename_folder("x", ".hidden")
    library.make_folder("p/q")
    with pytest.raises(InvalidFolder, match="8 levels"):
        library.move_folder("x", "p/q")  # 2 + 7 levels
    assert (library.root / "x").is_dir()


def test_deleting_a_folder_sends_its_images_to_the_trash(
    library: Library, add: AddBytes, make_image
) -> None:
    kept = add(_jpeg(make_image, 1), "x.jpg", alt_text="kept", folder="full/inner")
    other = add(_jpeg(make_image, 2), "y.jpg", folder="fullness")  # not inside "full"
    library.make_folder("full")
    assert library.delete_folder("full") == [kept.id]
    assert not (library.root / "full").exists()
    with pytest.raises(Gone):
        library.get(kept.id)
    assert library.get(other.id).folder == "fullness"
    # Restorable, back in its folder with its alt text.
    back = library.trash.restore(kept.id)
    assert (back.folder, back.alt_text) == ("full/inner", "kept")
    assert (library.root / "full" / "inner" / back.filename).is_file()


def test_delete_folder_refused_with_unknown_files(
    library: Library, add: AddBytes, make_image
) -> None:
    rec = add(_jpeg(make_image, 3), "z.jpg", folder="notes")
    (library.root / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(InvalidFolder, match=r"todo\.txt"):
        library.delete_folder("notes")
    assert (library.root / "notes" / "todo.txt").read_text() == "keep me"
    assert library.get(rec.id).folder == "notes"  # refused before anything was trashed
    assert library.trash.count() == 0


def test_delete_empty_folder_tree(library: Library) -> None:
    library.make_folder("gone/inner")
    (library.root / "gone" / "outside-made").mkdir()
    library.delete_folder("gone")
    assert not (library.root / "gone").exists()
    assert library.folder_tree() == []


def test_recursive_listing_and_counts(library: Library, add: AddBytes, make_image) -> None:
    for i, folder in enumerate(["a", "a/b", "a/b/c", "ab", None]):
        add(_jpeg(make_image, i), f"r{i}.jpg", folder=folder, alt_text=None if i % 2 else "d")
    assert library.count(folder="a") == 1
    assert library.count(folder="a", recursive=True) == 3
    assert library.count(folder="a", recursive=True, undescribed=True) == 1
    assert library.list_images(folder="a", recursive=True).total == 3
    assert {r.folder for r in library.list_images(folder="a", recursive=True).items} == {
        "a",
        "a/b",
        "a/b/c",
    }
    assert library.list_images(folder="a", recursive=True, search="r2").total == 1
    assert library.count(folder=None, recursive=True) == 5
