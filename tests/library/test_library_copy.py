"""Copying a library into another (``library_copy.py``, the core of ``imageshelf
migrate``) between two real folder libraries: ids, times, texts, custom metadata, EXIF
columns, folders, the trash, deleted ids, settings and bytes arrive; a second run copies
nothing twice; a run stopped half-way is finished by the next; ``add_copy`` refuses bytes
that do not match the recorded hash and an id the destination knows."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from imageshelf.app.library import Gone, InvalidInput, Library, LibraryError, settings
from imageshelf.app.library.library_copy import Progress, copy_library
from tests.conftest import image_bytes
from tests.exif_samples import camera_jpeg


@pytest.fixture
def src(tmp_path: Path) -> Iterator[Library]:
    lib = Library.open(tmp_path / "source ñ")
    yield lib
    lib.close()


@pytest.fixture
def dst(tmp_path: Path) -> Iterator[Library]:
    lib = Library.open(tmp_path / "destination")
    yield lib
    lib.close()


def _bytes(lib: Library, image_id: str) -> bytes:
    _, fp = lib.open_original(image_id)
    with fp:
        return fp.read()


def _fill(src: Library) -> dict[str, str]:
    """A source with what must travel; returns the ids by role."""
    camera = src.add(io.BytesIO(camera_jpeg(seed=3)), "camera.jpg", "A red bus", "trips/2026")
    src.update(camera.id, long_description="A long one.", custom_metadata={"credit": "Ana", "n": 3})
    plain = src.add(io.BytesIO(image_bytes("PNG", color=(0, 90, 0))), "plain.png")
    decorative = src.add(io.BytesIO(image_bytes("WEBP", color=(9, 9, 90))), "d.webp", "")
    trashed = src.add(io.BytesIO(image_bytes("PNG", color=(1, 2, 3))), "old.png", "gone soon")
    purged = src.add(io.BytesIO(image_bytes("PNG", color=(4, 5, 6))), "purged.png")
    src.delete(trashed.id)
    src.delete(purged.id)
    src.trash.purge(purged.id)
    src.make_folder("empty/kept")
    settings.put(src, settings.WRITE_ALT_TEXT_TO_FILES, True)
    src.trash.set_retention_days(7)
    return {
        "camera": camera.id,
        "plain": plain.id,
        "decorative": decorative.id,
        "trashed": trashed.id,
        "purged": purged.id,
    }


def test_everything_arrives(src: Library, dst: Library) -> None:
    ids = _fill(src)
    report = copy_library(src, dst)
    assert (report.copied, report.trashed, report.failed) == (3, 1, [])
    assert report.deleted_ids == 1 and report.folders == 1
    for role in ("camera", "plain", "decorative"):
        a, b = src.get(ids[role]), dst.get(ids[role])
        # Every field the API shows, times included; the bytes hash the same.
        assert b == a, role
        assert _bytes(dst, b.id) == _bytes(src, a.id)
    camera = dst.get(ids["camera"])
    assert camera.folder == "trips/2026" and camera.alt_text == "A red bus"
    assert camera.long_description == "A long one."
    assert camera.custom_metadata == {"credit": "Ana", "n": 3}
    assert camera.exif.make == "Canon" and camera.exif.taken_at is not None
    assert dst.get(ids["plain"]).alt_text is None  # not described stays not described
    assert dst.get(ids["decorative"]).alt_text == ""
    # The trashed image waits in the trash, deleted when it was there.
    there, here = dst.trash.get(ids["trashed"]), src.trash.get(ids["trashed"])
    assert there.deleted_at_us == here.deleted_at_us and there.image == here.image
    restored = dst.trash.restore(ids["trashed"])
    assert _bytes(dst, restored.id) == image_bytes("PNG", color=(1, 2, 3))
    # A purged id is gone there too; the empty folder and the settings came.
    with pytest.raises(Gone):
        dst.get(ids["purged"])
    assert "empty/kept" in {f.path for f in dst.folder_tree()}
    assert settings.read(dst, settings.WRITE_ALT_TEXT_TO_FILES) is True
    assert dst.trash.retention_days() == 7


def test_the_exif_columns_are_copied_not_read_again(src: Library, dst: Library) -> None:
    camera = src.add(io.BytesIO(camera_jpeg(seed=5)), "camera.jpg")
    with src.core.write() as conn:  # what the source's columns say wins over the file
        conn.execute(text("UPDATE images SET make = 'Leica' WHERE id = :id"), {"id": camera.id})
    copy_library(src, dst)
    assert dst.get(camera.id).exif.make == "Leica"


def test_a_second_run_copies_nothing_twice(src: Library, dst: Library) -> None:
    ids = _fill(src)
    copy_library(src, dst)
    again = copy_library(src, dst)
    assert (again.copied, again.trashed, again.deleted_ids, again.failed) == (0, 0, 0, [])
    assert again.skipped == 4
    assert dst.count() == 3 and dst.trash.count() == 1
    # And one added to the source since is all the next run brings.
    late = src.add(io.BytesIO(image_bytes("PNG", color=(7, 7, 7))), "late.png")
    third = copy_library(src, dst)
    assert third.copied == 1 and dst.get(late.id) == src.get(late.id)
    assert set(ids) and dst.count() == 4


def test_a_stopped_run_is_finished_by_the_next(src: Library, dst: Library) -> None:
    made = [
        src.add(io.BytesIO(image_bytes("PNG", color=(i, 0, 0))), f"n{i}.png").id for i in range(6)
    ]

    def stop_after_two(p: Progress) -> None:
        if p.stage == "images" and p.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_library(src, dst, stop_after_two)
    assert dst.count() == 2
    report = copy_library(src, dst)
    assert (report.copied, report.skipped, report.failed) == (4, 2, [])
    assert {dst.get(i).id for i in made} == set(made)


def test_a_live_copy_of_a_trashed_image_is_deleted_by_the_next_run(
    src: Library, dst: Library
) -> None:
    """A run stopped between copying a trashed image and deleting it leaves it live in
    the destination; the next run finishes the delete."""
    img = src.add(io.BytesIO(image_bytes("PNG", color=(3, 3, 3))), "t.png")
    dst.add_copy(io.BytesIO(_bytes(src, img.id)), src.get(img.id))
    src.delete(img.id)
    report = copy_library(src, dst)
    assert report.trashed == 1
    assert dst.trash.get(img.id).deleted_at_us == src.trash.get(img.id).deleted_at_us


def test_add_copy_refuses_bytes_that_do_not_match(src: Library, dst: Library) -> None:
    img = src.add(io.BytesIO(image_bytes("PNG")), "a.png")
    other = image_bytes("PNG", color=(0, 0, 0))
    with pytest.raises(LibraryError, match="do not match its recorded hash"):
        dst.add_copy(io.BytesIO(other), src.get(img.id))
    assert dst.count() == 0
    assert list(dst.tmp_dir.iterdir()) == []  # nothing left behind


def test_add_copy_refuses_an_id_it_knows(src: Library, dst: Library) -> None:
    img = src.add(io.BytesIO(image_bytes("PNG")), "a.png")
    record = src.get(img.id)
    dst.add_copy(io.BytesIO(_bytes(src, img.id)), record)
    with pytest.raises(InvalidInput, match="already known"):
        dst.add_copy(io.BytesIO(_bytes(src, img.id)), record)
    dst.delete(img.id)  # a deleted id is never reused either
    with pytest.raises(InvalidInput, match="already known"):
        dst.add_copy(io.BytesIO(_bytes(src, img.id)), record)
    assert [p.name for p in dst.root.iterdir() if not p.name.startswith(".")] == []


def test_a_name_taken_in_the_destination_gets_the_next_free_one(src: Library, dst: Library) -> None:
    mine = dst.add(io.BytesIO(image_bytes("PNG", color=(1, 1, 1))), "logo.png")
    theirs = src.add(io.BytesIO(image_bytes("PNG", color=(2, 2, 2))), "logo.png")
    copy_library(src, dst)
    assert dst.get(mine.id).filename == "logo.png"
    copied = dst.get(theirs.id)
    assert copied.filename == "logo-2.png" and copied.original_filename == "logo.png"
    assert hashlib.sha256(_bytes(dst, theirs.id)).hexdigest() == theirs.sha256


def test_an_image_whose_bytes_are_missing_is_reported_not_skipped(
    src: Library, dst: Library
) -> None:
    kept = src.add(io.BytesIO(image_bytes("PNG", color=(1, 1, 1))), "kept.png")
    lost = src.add(io.BytesIO(image_bytes("PNG", color=(2, 2, 2))), "lost.png")
    (src.root / lost.relpath).unlink()  # by other hands, while no watcher looks
    report = copy_library(src, dst)
    assert report.copied == 1 and dst.get(kept.id).sha256 == kept.sha256
    assert [image_id for image_id, _why in report.failed] == [lost.id]
    assert "missing" in report.failed[0][1]
