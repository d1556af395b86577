"""Importing files and folders from disk: folders kept, duplicates and non-images reported,
cancel leaves every image either fully in the library or not at all."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from imageshelf.app.library import Library
from imageshelf.app.library.importer import ImportSession, collect, collect_all
from tests.conftest import image_bytes
from tests.library.helpers import (
    library_files,
    on_disk,
    row_count,
    sha256,
    thumbnail_files,
    tmp_leftovers,
)

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def distinct(i: int, fmt: str = "PNG") -> bytes:
    return image_bytes(fmt, size=(20 + i, 20), color=(i * 7 % 256, 40, 90))


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    """A folder outside the library, as a person would drag it in."""
    root = tmp_path / "drop" / "Holiday"
    write(root / "a.png", distinct(1))
    write(root / "beach" / "b.jpg", distinct(2, "JPEG"))
    write(root / "beach" / "deep" / "c.webp", distinct(3, "WEBP"))
    write(root / "beach" / "notes.txt", b"not an image, not even tried")
    write(root / ".hidden" / "d.png", distinct(4))
    write(root / ".e.png", distinct(5))
    return root


def test_collect_keeps_the_folder_and_its_sub_folders(drop: Path) -> None:
    items = collect([drop], folder="trips")
    assert sorted((i.path.name, i.folder) for i in items) == [
        ("a.png", "trips/Holiday"),
        ("b.jpg", "trips/Holiday/beach"),
        ("c.webp", "trips/Holiday/beach/deep"),
    ]


def test_collect_all_says_what_it_leaves_out_and_why(drop: Path) -> None:
    items, skipped = collect_all([drop, drop.parent / "vanished.png"], folder="trips")
    assert len(items) == 3
    assert sorted((s.path.name, s.code) for s in skipped) == [
        (".e.png", "hidden"),
        (".hidden", "hidden"),
        ("notes.txt", "unsupported_format"),
        ("vanished.png", "unreadable"),
    ]
    report = ImportSession(Library.__new__(Library), [], skipped=skipped).run()
    assert report.rejected == skipped and report.added == []


def test_a_folder_import_lands_with_its_structure(library: Library, drop: Path) -> None:
    progress: list[tuple[int, int]] = []
    report = ImportSession(library, collect([drop])).run(lambda d, t, r, j: progress.append((d, t)))
    assert report.rejected == [] and not report.cancelled
    assert sorted(r.relpath for r in report.added) == [
        "Holiday/a.png",
        "Holiday/beach/b.jpg",
        "Holiday/beach/deep/c.webp",
    ]
    for rec in report.added:
        source = next(drop.rglob(rec.filename))
        assert on_disk(library, rec).read_bytes() == source.read_bytes()
        assert rec.original_filename == source.name and rec.alt_text is None
    assert progress == [(1, 3), (2, 3), (3, 3)]
    assert library.folders() == ["Holiday", "Holiday/beach", "Holiday/beach/deep"]


def test_duplicates_are_rejected_against_the_library_and_within_the_batch(
    library: Library, add, tmp_path: Path
) -> None:
    known = add(distinct(1), "known.png")
    src = tmp_path / "drop"
    files = [
        write(src / "again.png", distinct(1)),  # already in the library
        write(src / "twin1.png", distinct(2)),
        write(src / "twin2.png", distinct(2)),  # same bytes as twin1
        write(src / "fresh.png", distinct(3)),
    ]
    report = ImportSession(library, collect(files), workers=2).run()
    rejected = {r.path.name: r.code for r in report.rejected}
    assert rejected.get("again.png") == "duplicate"
    assert list(rejected.values()).count("duplicate") == 2
    added = sorted(r.original_filename for r in report.added)
    assert len(added) == 2 and "fresh.png" in added
    assert {r.sha256 for r in report.added} == {sha256(distinct(2)), sha256(distinct(3))}
    assert row_count(library) == 3
    assert library.get(known.id) == known
    assert tmp_leftovers(library) == []


def test_a_pdf_and_a_broken_image_are_reported(library: Library, tmp_path: Path) -> None:
    src = tmp_path / "drop"
    pdf = write(src / "report.pdf", b"%PDF-1.4\n%%EOF\n")
    broken = write(src / "broken.jpg", image_bytes("JPEG", size=(300, 300))[:400])
    fine = write(src / "fine.gif", distinct(1, "GIF"))
    report = ImportSession(library, collect([pdf, broken, fine])).run()
    assert {r.path.name: r.code for r in report.rejected} == {
        "report.pdf": "unsupported_format",
        "broken.jpg": "malformed_image",
    }
    assert all(r.message for r in report.rejected)
    assert [r.filename for r in report.added] == ["fine.gif"]
    assert library_files(library.root) == ["fine.gif"]


def test_cancel_leaves_no_half_imported_file(library: Library, tmp_path: Path) -> None:
    src = tmp_path / "drop"
    files = [write(src / f"{i:02}.png", distinct(i)) for i in range(40)]
    session = ImportSession(library, collect(files), workers=2)
    cancelled_at = threading.Event()

    def progress(done, total, record, rejection) -> None:
        if done == 3:
            session.cancel()
            cancelled_at.set()

    report = session.run(progress)
    assert cancelled_at.is_set() and report.cancelled
    assert 3 <= len(report.added) < 40
    assert report.rejected == []
    # Exactly the images reported added are in the library: rows, files and bytes agree.
    assert row_count(library) == len(report.added)
    assert library_files(library.root) == sorted(r.filename for r in report.added)
    for rec in report.added:
        assert on_disk(library, rec).read_bytes() == (src / rec.original_filename).read_bytes()
    assert tmp_leftovers(library) == []
    # Thumbnails made for images prepared but never committed are dropped with them.
    assert len(thumbnail_files(library)) == len({r.sha256 for r in report.added})
