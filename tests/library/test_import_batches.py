"""Many files imported through the worker processes are committed a batch per transaction
(intake_batch.py): the same rows as one at a time, each file reported only after its
batch committed, one file that does not fit costing none of the others, and a kill
mid-import leaving a library that opens with every committed image whole."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from imageshelf.app.library import Library, intake_batch
from imageshelf.app.library.importer import ImportItem, ImportSession
from tests.library.test_adoption_workers import (
    REPO,
    _count,
    all_records,
    camera_jpeg,
    photo_folder,
)


def _batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each batch committed (the real commit runs)."""
    sizes: list[int] = []
    real = intake_batch.commit_many

    def commit_many(core, entries):  # type: ignore[no-untyped-def]
        sizes.append(len(entries))
        return real(core, entries)

    monkeypatch.setattr(intake_batch, "commit_many", commit_many)
    return sizes


def test_a_drop_commits_in_batches_and_reports_each_file_after_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "card"
    photo_folder(src, 20)
    # The same names from two folders into one: the batch gives each a free name.
    (src / "trip" / "img-000.jpg").write_bytes(camera_jpeg(100))
    items = [ImportItem(p, "card") for p in sorted(src.rglob("*.jpg"))]
    sizes = _batches(monkeypatch)
    with Library.open(tmp_path / "lib") as lib:
        session = ImportSession(lib, items, processes=True, workers=2)
        session.batch_files, session.batch_seconds = 8, 3600.0  # by count only
        committed_when_told: list[int] = []

        def progress(done: int, total: int, record: object, rejection: object) -> None:
            assert rejection is None and record is not None
            with lib.core.read() as conn:  # the row is there before the file is reported
                committed_when_told.append(
                    conn.exec_driver_sql("SELECT COUNT(*) FROM images").scalar_one()
                )

        report = session.run(progress)
        assert sizes == [1, 8, 8, 4]  # the first at once, then whole batches
        assert committed_when_told == [1] + [9] * 8 + [17] * 8 + [21] * 4
        assert len(report.added) == 21 and report.rejected == []
        names = sorted(r.filename for r in report.added)
        assert len(set(names)) == 21 and "img-000-2.jpg" in names
        for rec in report.added:
            data = (lib.root / rec.relpath).read_bytes()
            assert hashlib.sha256(data).hexdigest() == rec.sha256
        assert lib.count() == 21
        assert os.listdir(lib.core.tmp_dir) == []  # every copy went after its commit


def test_one_that_does_not_fit_costs_none_of_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "card"
    photo_folder(src, 14)
    paths = sorted(src.rglob("*.jpg"))
    # A folder the library cannot hold: its batch fails, then each is committed alone.
    items = [ImportItem(p, "a/../b" if i == 5 else "card") for i, p in enumerate(paths)]
    sizes = _batches(monkeypatch)
    with Library.open(tmp_path / "lib") as lib:
        session = ImportSession(lib, items, processes=True, workers=2)
        session.batch_files, session.batch_seconds = 16, 3600.0
        report = session.run()
        assert sizes == [1, 13]
        assert [(r.path, r.code) for r in report.rejected] == [(paths[5], "invalid_folder")]
        assert len(report.added) == 13 and lib.count() == 13
        assert {r.folder for r in report.added} == {"card"}
        assert sorted(os.listdir(lib.root / "card")) == sorted(r.filename for r in report.added)
        assert os.listdir(lib.core.tmp_dir) == []


def test_files_already_in_the_library_are_refused_per_batch_leaving_their_twins_thumbnail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The duplicate check of a batched import is one read a batch: what is already in the
    library is refused, named by its twin's place, before anything of it is placed; a
    twin within the import is refused too; the library twin's thumbnail is never
    rewritten (its ETag and size stay what clients were told)."""
    src = tmp_path / "card"
    photo_folder(src, 14)
    (src / "again-3.jpg").write_bytes(camera_jpeg(3))  # already in the library (below)
    (src / "again-3b.jpg").write_bytes(camera_jpeg(3))  # ... and twice in this import
    (src / "twin-12.jpg").write_bytes(camera_jpeg(12))  # a twin within the import only
    items = [ImportItem(p, "card") for p in sorted(src.rglob("*.jpg"))]
    sizes = _batches(monkeypatch)
    with Library.open(tmp_path / "lib") as lib:
        known = lib.add(io.BytesIO(camera_jpeg(3)), "first.jpg", folder="earlier")
        _, thumb = lib.thumbnail(known.id)
        before = os.stat(thumb.path)
        session = ImportSession(lib, items, processes=True, workers=2)
        session.batch_files, session.batch_seconds = 16, 3600.0
        reads = _reads_by_hash(lib, monkeypatch)
        report = session.run()
        refused = sorted((r.path.name, r.code, r.message) for r in report.rejected)
        in_library = "The same image is already in the library as earlier/first.jpg."
        in_import = "The same image is already in this import."
        assert refused == [  # a copy of one found in the library: named after it too
            ("again-3.jpg", "duplicate", in_library),
            ("again-3b.jpg", "duplicate", in_library),
            ("img-003.jpg", "duplicate", in_library),
            ("twin-12.jpg", "duplicate", in_import),  # after card/img-012.jpg
        ]
        assert len(report.added) == 13 and lib.count() == 14
        assert sum(sizes) == 13  # nothing of the duplicates reached a commit
        assert reads == []  # no read a file: the batch's own
        assert sorted(os.listdir(lib.root / "card")) == sorted(r.filename for r in report.added)
        after = os.stat(thumb.path)
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
        assert lib.thumbnail(known.id)[1].etag == thumb.etag
        assert os.listdir(lib.core.tmp_dir) == []


def _reads_by_hash(lib: Library, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each ``rows.by_hash`` read (the one-file duplicate check) made from now on."""
    from imageshelf.app.library.sql import rows

    calls: list[str] = []
    real = rows.by_hash

    def by_hash(conn, sha256):  # type: ignore[no-untyped-def]
        calls.append(sha256)
        return real(conn, sha256)

    monkeypatch.setattr(rows, "by_hash", by_hash)
    return calls


IMPORT_SCRIPT = (
    "import sys\n"
    "from pathlib import Path\n"
    "from imageshelf.app.library import Library\n"
    "from imageshelf.app.library.importer import ImportItem, ImportSession\n"
    "if __name__ == '__main__':\n"
    "    lib = Library.open(sys.argv[1])\n"
    "    items = [ImportItem(p, None) for p in sorted(Path(sys.argv[2]).rglob('*.jpg'))]\n"
    "    session = ImportSession(lib, items, processes=True, workers=2)\n"
    "    session.batch_files = 4\n"
    "    session.run()\n"
    "    lib.close()\n"
)


def test_kill_mid_drop_then_reopen_keeps_every_committed_image_whole(tmp_path: Path) -> None:
    src, root = tmp_path / "card", tmp_path / "lib"
    n = 160
    photo_folder(src, n)
    Library.open(root).close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", IMPORT_SCRIPT, str(root), str(src)], env=env)
    db = root / ".imageshelf" / "library.db"
    deadline = time.monotonic() + 120
    try:
        while _count(db) == 0 and proc.poll() is None:  # the first batch committed
            assert time.monotonic() < deadline, "the import never committed a row"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    committed = _count(db)
    assert 0 < committed < n, "the kill came after the whole import"
    sources = {hashlib.sha256(p.read_bytes()).hexdigest() for p in src.rglob("*.jpg")}
    with Library.open(root) as lib:
        records = all_records(lib)
        # Every committed row is there; a file placed by a batch the kill cut short is
        # adopted whole (never half-written), so the rows and the folder agree.
        assert committed <= len(records) < n
        on_disk = sorted(p.name for p in root.iterdir() if p.suffix == ".jpg")
        assert on_disk == sorted(r.filename for r in records)
        for rec in records:
            data = (root / rec.relpath).read_bytes()
            assert hashlib.sha256(data).hexdigest() == rec.sha256 in sources
            _, thumb = lib.thumbnail(rec.id)
            with Image.open(thumb.path) as img:
                img.load()
        assert os.listdir(lib.core.tmp_dir) == []  # the copies the kill left are gone


def test_the_workers_store_the_thumbnails_and_read_the_exif_from_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batched import's thumbnails are written by the decode workers (the library
    process, which shares the window's GIL, writes none), whole and known to the cache
    with the ETag of their bytes; the EXIF the workers read from the bytes in memory is
    what a file added on its own gets from its file."""
    from imageshelf.app.library.thumbnails import ThumbnailCache

    src = tmp_path / "card"
    photo_folder(src, 14)
    items = [ImportItem(p, "card") for p in sorted(src.rglob("*.jpg"))]
    stored_here: list[str] = []
    real_store = ThumbnailCache.store

    def store(self, sha256, data, content_type):  # type: ignore[no-untyped-def]
        stored_here.append(sha256)
        return real_store(self, sha256, data, content_type)

    monkeypatch.setattr(ThumbnailCache, "store", store)
    with Library.open(tmp_path / "lib") as lib:
        report = ImportSession(lib, items, processes=True, workers=2).run()
        assert len(report.added) == 14 and report.rejected == []
        assert stored_here == []
        for rec in report.added:
            _, thumb = lib.thumbnail(rec.id)
            data = Path(thumb.path).read_bytes()
            assert thumb.etag == hashlib.sha256(data).hexdigest() and thumb.size == len(data)
            with Image.open(thumb.path) as img:
                img.load()
                assert max(img.size) <= 512
        imported = {r.original_filename: r for r in report.added}
        for i in (0, 3, 5):  # GPS on every third, portrait on every fifth
            rec = imported[f"img-{i:03d}.jpg"]
            path = src / ("trip" if i % 2 else "") / rec.original_filename
            added = lib.add(io.BytesIO(path.read_bytes()), f"again-{i}.jpg")
            assert rec.exif == added.exif and (rec.width, rec.height) == (added.width, added.height)
        assert imported["img-003.jpg"].exif.latitude is not None
        assert os.listdir(lib.core.tmp_dir) == []
