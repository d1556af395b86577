"""Opening a library brings it back in line with its folder (the basic cases; changes made
outside while closed are covered in depth by test_outside_while_closed)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from imageshelf.app.library import Gone, Library, imaging
from imageshelf.app.library.sql.rows import PENDING_SEP
from tests.conftest import image_bytes
from tests.library.helpers import library_files, sha256

JPEG = image_bytes("JPEG")


def add_and_close(library_path: Path, **kw) -> str:
    with Library.open(library_path) as lib:
        return lib.add(io.BytesIO(JPEG), "a.jpg", **kw).id


def test_leftovers_in_tmp_are_removed(library_path: Path) -> None:
    add_and_close(library_path)
    tmp = library_path / ".imageshelf" / "tmp"
    (tmp / "incoming-abc").write_bytes(b"half an upload")
    (tmp / "deleting-img_x").write_bytes(JPEG)
    (tmp / "a-dir").mkdir()
    (tmp / "a-dir" / "inside").write_bytes(b"x")
    with Library.open(library_path) as lib:
        assert list(lib.tmp_dir.iterdir()) == []
        assert lib.list_images().total == 1


def test_a_row_whose_file_vanished_is_tombstoned(library_path: Path) -> None:
    image_id = add_and_close(library_path, folder="f")
    (library_path / "f" / "a.jpg").unlink()
    with Library.open(library_path) as lib:
        with pytest.raises(Gone):
            lib.get(image_id)
        assert lib.list_images().total == 0
        assert lib.folders() == []


def test_an_unknown_image_file_is_adopted_undescribed(library_path: Path) -> None:
    add_and_close(library_path, alt_text="known")
    png = image_bytes("PNG", size=(30, 20))
    (library_path / "sub").mkdir()
    (library_path / "sub" / "new.png").write_bytes(png)
    with Library.open(library_path) as lib:
        page = lib.list_images(folder="sub")
        assert page.total == 1
        rec = page.items[0]
        assert (rec.filename, rec.original_filename, rec.alt_text) == ("new.png", "new.png", None)
        assert (rec.content_type, rec.width, rec.height) == ("image/png", 30, 20)
        assert rec.sha256 == sha256(png)
        assert lib.folders() == ["sub"]


def test_a_file_that_is_not_an_image_is_left_alone_and_not_reread(
    library_path: Path, monkeypatch
) -> None:
    add_and_close(library_path)
    fake = library_path / "fake.jpg"
    fake.write_text("not a picture")
    (library_path / "notes.txt").write_text("mine")
    reads: list[Path] = []
    real_inspect = imaging.inspect_path

    def counting_inspect(path: Path):
        reads.append(Path(path))
        return real_inspect(path)

    monkeypatch.setattr(imaging, "inspect_path", counting_inspect)
    for _ in range(2):
        with Library.open(library_path) as lib:
            assert lib.list_images().total == 1
    assert reads == [fake]  # read on the first open only
    assert fake.read_text() == "not a picture"
    assert library_files(library_path) == ["a.jpg", "fake.jpg", "notes.txt"]
    # Once it changes, it is looked at again (and adopted, now that it is an image).
    fake.write_bytes(JPEG)
    with Library.open(library_path) as lib:
        assert lib.list_images().total == 2
    assert reads[1:] == [fake]


def test_a_file_moved_while_closed_keeps_its_id(library_path: Path) -> None:
    image_id = add_and_close(library_path, alt_text="still me", folder="from")
    (library_path / "to" / "deeper").mkdir(parents=True)
    (library_path / "from" / "a.jpg").rename(library_path / "to" / "deeper" / "renamed.jpg")
    with Library.open(library_path) as lib:
        rec = lib.get(image_id)
        assert (rec.folder, rec.filename, rec.alt_text) == ("to/deeper", "renamed.jpg", "still me")
        assert lib.list_images().total == 1
        assert lib.list_images(search="renamed").items == [rec]
        assert lib.folders() == ["to/deeper"]


def leave_a_move_half_done(library_path: Path, *, old_name_removed: bool) -> str:
    """The state a kill leaves inside ``update(folder=...)``: the intent recorded, the new
    name linked, and (later in the move) the old name removed, but no commit."""
    image_id = add_and_close(library_path, folder="from")
    with Library.open(library_path) as lib, lib.engine.begin() as conn:
        conn.execute(
            text("UPDATE images SET pending_path = :p WHERE id = :id"),
            {"p": "to" + PENDING_SEP + "a.jpg", "id": image_id},
        )
    (library_path / "to").mkdir()
    os.link(library_path / "from" / "a.jpg", library_path / "to" / "a.jpg")
    if old_name_removed:
        (library_path / "from" / "a.jpg").unlink()
    return image_id


def test_a_move_killed_before_dropping_the_old_name_is_undone(library_path: Path) -> None:
    image_id = leave_a_move_half_done(library_path, old_name_removed=False)
    with Library.open(library_path) as lib:
        rec = lib.get(image_id)
        assert rec.relpath == "from/a.jpg"
        assert (library_path / "from" / "a.jpg").read_bytes() == JPEG
        assert not (library_path / "to" / "a.jpg").exists()
        assert lib.list_images().total == 1


def test_a_move_killed_after_dropping_the_old_name_is_finished(library_path: Path) -> None:
    image_id = leave_a_move_half_done(library_path, old_name_removed=True)
    with Library.open(library_path) as lib:
        before = lib.get(image_id)
    (library_path / "to" / "a.jpg").rename(library_path / "to" / "renamed.jpg")
    with Library.open(library_path, reconcile=False) as lib, lib.engine.begin() as conn:
        conn.execute(
            text("UPDATE images SET pending_path = :p WHERE id = :id"),
            {"p": "to" + PENDING_SEP + "renamed.jpg", "id": image_id},
        )
    with Library.open(library_path) as lib:
        rec = lib.get(image_id)
        assert rec.relpath == "to/renamed.jpg"
        assert (library_path / "to" / "renamed.jpg").read_bytes() == JPEG
        assert lib.list_images().total == 1
        assert lib.folders() == ["to"]
        # Finished as the move would have: searchable by its new name, dated, and the
        # folder it left gone from disk.
        assert lib.list_images(search="renamed").items == [rec]
        assert rec.updated_at_us > before.updated_at_us
        assert not (library_path / "from").exists()
