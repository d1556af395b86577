"""Exports out of the library (app/library/export.py): a zip or a folder, entries named
``folder/filename``, an ``alt-text.csv`` with the columns asked for, all or nothing."""

from __future__ import annotations

import contextlib
import csv
import io
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from imageshelf.app.library import Library, StorageError
from imageshelf.app.library import export as ex
from imageshelf.app.library.errors import Cancelled, InvalidInput
from imageshelf.app.library.export_out import TMP_PREFIX
from tests.conftest import image_bytes
from tests.mounts import tmpfs

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py


@pytest.fixture
def filled(library: Library) -> Library:
    library.add(io.BytesIO(image_bytes("JPEG", size=(60, 40))), "kite.jpg", folder="Trip ñ",
                alt_text='A "red" kite, high')  # fmt: skip
    library.add(io.BytesIO(image_bytes("PNG", size=(30, 20))), "sea.png", alt_text="")
    dune = library.add(io.BytesIO(image_bytes("JPEG", size=(61, 40))), "dune.jpg",
                       folder="Trip ñ/b")  # fmt: skip
    library.update(dune.id, long_description="Sand\nand wind")
    return library


def _export(library: Library, dest: Path, kind: ex.Kind, **kw: object) -> ex.Report:
    return ex.export(
        ex.plan(library), ex.LibrarySource(library), dest, kind, library_root=library.root, **kw
    )  # type: ignore[arg-type]


def _originals(library: Library) -> dict[str, bytes]:
    return {
        ex.entry_name(r.folder, r.filename): library.path_of(r.folder, r.filename).read_bytes()
        for r in library.list_images(page_size=100).items
    }


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(f"{TMP_PREFIX}*"))


def test_a_zip_holds_each_original_under_folder_and_name_with_the_csv(
    filled: Library, tmp_path: Path
) -> None:
    dest = tmp_path / "out" / "Export ñ.zip"
    dest.parent.mkdir()
    report = _export(filled, dest, ex.Kind.ZIP, csv_columns=("path", "id", "alt_text",
                     "alt_status", "long_description"))  # fmt: skip
    originals = _originals(filled)
    assert sorted(report.written) == sorted(originals)
    with zipfile.ZipFile(dest) as z:
        assert z.testzip() is None
        assert sorted(z.namelist()) == sorted([*originals, "alt-text.csv"])
        for name, data in originals.items():
            info = z.getinfo(name)
            assert info.compress_type == zipfile.ZIP_STORED
            assert name.isascii() or info.flag_bits & 0x800  # marked UTF-8
            assert z.read(name) == data
        rows = list(csv.DictReader(io.StringIO(z.read("alt-text.csv").decode("utf-8"))))
    by_path = {r["path"]: r for r in rows}
    assert list(rows[0]) == ["path", "id", "alt_text", "alt_status", "long_description"]
    assert by_path["Trip ñ/kite.jpg"]["alt_text"] == 'A "red" kite, high'
    assert by_path["sea.png"]["alt_status"] == "decorative"
    assert by_path["Trip ñ/b/dune.jpg"]["alt_status"] == "missing"
    assert by_path["Trip ñ/b/dune.jpg"]["long_description"] == "Sand\nand wind"
    assert by_path["sea.png"]["id"].startswith("img_")
    # An independent reader agrees the archive is whole.
    tested = subprocess.run(["unzip", "-t", str(dest)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout
    assert _leftovers(dest.parent) == []
    assert dest.stat().st_mode & 0o777 == 0o666 & ~_umask()  # not the temporary file's 0o600


def _umask() -> int:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if "Umask" in x)
    return int(line.split()[1], 8)


def test_a_new_folder_gets_the_tree_and_an_existing_one_is_added_to_never_overwritten(
    filled: Library, tmp_path: Path
) -> None:
    dest = tmp_path / "Shared"
    report = _export(filled, dest, ex.Kind.FOLDER, csv_columns=("path",))
    originals = _originals(filled)
    for name, data in originals.items():
        assert (dest / name).read_bytes() == data
    assert (dest / "alt-text.csv").read_bytes().startswith(b"path\r\n")
    assert report.csv and not report.kept
    assert dest.stat().st_mode & 0o777 == 0o777 & ~_umask()
    # Again: everything is there already, nothing written twice.
    (dest / "sea.png").write_bytes(b"someone else's file")
    again = _export(filled, dest, ex.Kind.FOLDER)
    assert again.written == [] and again.kept == ["sea.png"]
    assert sorted(again.already) == sorted(n for n in originals if n != "sea.png")
    assert (dest / "sea.png").read_bytes() == b"someone else's file"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", [ex.Kind.ZIP, ex.Kind.FOLDER])
def test_cancelled_halfway_leaves_nothing(filled: Library, tmp_path: Path, kind: ex.Kind) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        seen.append(done)
        if done == 1:
            cancel.set()  # after the first image is written

    exports = tmp_path / "exports"
    exports.mkdir()
    dest = exports / ("out.zip" if kind is ex.Kind.ZIP else "out")
    with pytest.raises(Cancelled):
        _export(filled, dest, kind, progress=progress, cancel=cancel, csv_columns=("path",))
    assert 1 in seen
    assert list(exports.iterdir()) == []


def test_cancelled_into_a_folder_with_files_adds_none_of_them(
    filled: Library, tmp_path: Path
) -> None:
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        _export(filled, dest, ex.Kind.FOLDER, cancel=cancel,
                progress=lambda done, *_: cancel.set() if done == 2 else None)  # fmt: skip
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]


def test_a_disk_that_fills_up_halfway_leaves_nothing(filled: Library, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "24m") as disk:
        filler = disk / "filler"

        def fill_the_disk(done: int, *_: int) -> None:
            if done == 1 and not filler.exists():  # another program takes the rest
                with open(filler, "wb") as f, contextlib.suppress(OSError):
                    while True:
                        f.write(b"\0" * (1 << 20))

        with pytest.raises(StorageError, match="disk is full"):
            big = [ex.Item.from_record(r) for r in filled.list_images(page_size=100).items]
            ex.export(big, ex.LibrarySource(filled), disk / "out.zip", ex.Kind.ZIP,
                      library_root=filled.root, progress=fill_the_disk,
                      csv_columns=("path",))  # fmt: skip
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]


def test_a_destination_inside_the_library_is_refused(filled: Library, tmp_path: Path) -> None:
    link = tmp_path / "looks-outside"
    link.symlink_to(filled.root / "Trip ñ")
    for dest, kind in (
        (filled.root / "all.zip", ex.Kind.ZIP),
        (filled.root / "Trip ñ" / "copy", ex.Kind.FOLDER),
        (filled.root, ex.Kind.FOLDER),
        (link / "new.zip", ex.Kind.ZIP),
    ):
        with pytest.raises(InvalidInput, match="inside the library"):
            _export(filled, dest, kind)
    assert not (filled.root / "all.zip").exists()
    assert not (filled.root / "Trip ñ" / "new.zip").exists()


def test_a_zip_already_there_is_replaced_only_when_asked(filled: Library, tmp_path: Path) -> None:
    dest = tmp_path / "out.zip"
    dest.write_bytes(b"old")
    with pytest.raises(InvalidInput, match="already exists"):
        _export(filled, dest, ex.Kind.ZIP)
    assert dest.read_bytes() == b"old"
    _export(filled, dest, ex.Kind.ZIP, replace=True)
    assert zipfile.ZipFile(dest).testzip() is None


def test_an_image_deleted_after_the_plan_is_reported_missing(
    filled: Library, tmp_path: Path
) -> None:
    items = ex.plan(filled)
    gone = items[0]
    filled.delete(gone.id)
    report = ex.export(items, ex.LibrarySource(filled), tmp_path / "o.zip", ex.Kind.ZIP,
                       library_root=filled.root)  # fmt: skip
    assert report.missing == [gone.id]
    assert len(zipfile.ZipFile(tmp_path / "o.zip").namelist()) == len(items) - 1


def test_names_that_clash_without_case_get_a_number() -> None:
    def item(folder: str | None, name: str) -> ex.Item:
        return ex.Item("img_x", folder, name, 1, "image/png")

    names = ex.entry_names(
        [
            item("a", "Kite.jpg"),
            item("A", "kite.JPG"),
            item("A", "kite.jpg"),
            item(None, "ALT-TEXT.csv"),
            item(None, "noext"),
        ]
    )
    assert names == ["a/Kite.jpg", "A/kite-2.JPG", "A/kite-3.jpg", "ALT-TEXT-2.csv", "noext"]
    # Unicode spelled two ways (macOS writes NFD) is one name too; a backslash is no folder.
    assert ex.entry_names([item(None, "caf\u00e9.jpg"), item(None, "cafe\u0301.jpg"),
                           item("x", "a\\b.jpg")]) == [
        "caf\u00e9.jpg", "cafe\u0301-2.jpg", "x/a_b.jpg"]  # fmt: skip


def test_unknown_csv_columns_are_refused_before_anything_is_written(
    filled: Library, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    with pytest.raises(InvalidInput, match="CSV columns"):
        _export(filled, exports / "o.zip", ex.Kind.ZIP, csv_columns=("path", "secret"))
    assert list(exports.iterdir()) == []


def test_plan_takes_a_folder_with_or_without_what_is_below_it(filled: Library) -> None:
    def names(**scope: object) -> list[str]:
        return [ex.entry_name(i.folder, i.filename) for i in ex.plan(filled, **scope)]

    assert names(folder="Trip ñ") == ["Trip ñ/kite.jpg"]
    assert names(folder="Trip ñ", recursive=True) == ["Trip ñ/b/dune.jpg", "Trip ñ/kite.jpg"]
    assert names(folder=None) == ["sea.png"]  # the top level only
    assert len(names()) == 3
    some = [i.id for i in ex.plan(filled)][:2]
    assert [i.id for i in ex.plan(filled, ids=[*some, "img_01ARZ3NDEKTSV4RRFFQ69G5FAV"])] == some
    with pytest.raises(InvalidInput):
        ex.plan(filled, folder="../outside")
