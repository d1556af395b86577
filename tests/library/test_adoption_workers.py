"""Adopting many files in worker processes (issue 21): the same rows, EXIF and thumbnails
as the one-at-a-time path, moves still followed, refusals still remembered, an import of
many files through the workers, and a kill mid-adoption that the next open finishes."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imageshelf.app.library import ImageRecord, Library, rules
from imageshelf.app.library.importer import ImportItem, ImportSession
from imageshelf.app.library.reconcile import Reconciler
from tests.exif_samples import camera_exif, pixels

REPO = Path(__file__).resolve().parents[2]


def camera_jpeg(i: int, size: tuple[int, int] = (640, 480)) -> bytes:
    """A distinct photo with camera EXIF; every third with GPS, every fifth portrait."""
    exif = camera_exif(
        taken=f"2025:03:{1 + i % 28:02d} 10:{i % 60:02d}:00",
        orientation=6 if i % 5 == 0 else 1,
        gps=(37.38 + i / 1000, -5.99, 12.0) if i % 3 == 0 else None,
    )
    out = io.BytesIO()
    pixels(seed=i, size=size).save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def photo_folder(root: Path, n: int) -> None:
    (root / "trip").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        where = root / "trip" if i % 2 else root
        (where / f"img-{i:03d}.jpg").write_bytes(camera_jpeg(i))


def all_records(lib: Library) -> list[ImageRecord]:
    out: list[ImageRecord] = []
    page = 1
    while chunk := lib.list_images(page=page, page_size=100).items:
        out += chunk
        page += 1
    return out


def facts(lib: Library) -> dict[str, tuple[Any, ...]]:
    """Everything adoption decides about each file, by path (ids are new each time)."""
    out: dict[str, tuple[Any, ...]] = {}
    for rec in all_records(lib):
        _, thumb = lib.thumbnail(rec.id)
        assert rules.is_image_id(rec.id)
        out[rec.relpath] = (
            rec.sha256,
            rec.size,
            rec.width,
            rec.height,
            rec.content_type,
            rec.alt_text,
            rec.exif,
            thumb.path.read_bytes(),
        )
    return out


def adopt(root: Path, *, processes: bool) -> dict[str, tuple[Any, ...]]:
    with Library.open(root, reconcile=False) as lib:
        rec = Reconciler(lib.core)
        rec.min_files_for_processes = 1 if processes else 10**9
        rec.workers = 2
        seen: list[tuple[int, int]] = []
        rec.run(lambda done, total: seen.append((done, total)))
        assert seen[-1][0] == seen[-1][1]  # every file accounted for
        return facts(lib)


def test_worker_adoption_makes_the_same_rows_as_one_at_a_time(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    photo_folder(a, 14)
    (a / "notes.jpg").write_bytes(b"not a jpeg at all")  # refused, remembered
    (a / "cut.jpg").write_bytes(camera_jpeg(99)[:3000])  # truncated: refused
    photo_folder(b, 14)
    (b / "notes.jpg").write_bytes(b"not a jpeg at all")
    (b / "cut.jpg").write_bytes(camera_jpeg(99)[:3000])
    one_by_one = adopt(a, processes=False)
    in_workers = adopt(b, processes=True)
    assert len(in_workers) == 14
    assert in_workers == one_by_one
    portrait = in_workers["img-000.jpg"]
    assert (portrait[2], portrait[3]) == (480, 640)  # orientation 6 applied
    assert portrait[6].make == "Canon" and portrait[6].latitude is not None
    with Library.open(b, reconcile=False) as lib, lib.core.read() as conn:
        ignored = [r[0] for r in conn.exec_driver_sql("SELECT path FROM ignored_files")]
    assert sorted(ignored) == ["cut.jpg", "notes.jpg"]


def test_worker_adoption_stores_the_thumbnails_in_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decode workers write the adopted photos' thumbnails (the library process,
    whose threads share the window's GIL, writes none); the cache knows each with the
    ETag of its bytes."""
    from imageshelf.app.library.thumbnails import ThumbnailCache

    root = tmp_path / "lib"
    photo_folder(root, 14)
    stored_here: list[str] = []
    real_store = ThumbnailCache.store

    def store(self, sha256, data, content_type):  # type: ignore[no-untyped-def]
        stored_here.append(sha256)
        return real_store(self, sha256, data, content_type)

    monkeypatch.setattr(ThumbnailCache, "store", store)
    with Library.open(root, reconcile=False) as lib:
        rec = Reconciler(lib.core)
        rec.min_files_for_processes, rec.workers = 1, 2
        rec.run()
        records = all_records(lib)
        assert len(records) == 14 and stored_here == []
        for record in records:
            _, thumb = lib.thumbnail(record.id)
            data = thumb.path.read_bytes()
            assert thumb.etag == hashlib.sha256(data).hexdigest() and thumb.size == len(data)


def test_a_folder_renamed_while_closed_is_followed_without_decoding(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    photo_folder(root, 14)
    with Library.open(root) as lib:
        before = {r.relpath: r.id for r in all_records(lib)}
    (root / "trip").rename(root / "holiday")
    with Library.open(root, reconcile=False) as lib:
        rec = Reconciler(lib.core)
        rec.min_files_for_processes = 1
        rec.run()
        after = {r.relpath: r.id for r in all_records(lib)}
    assert sorted(after.values()) == sorted(before.values())  # the same ids: moved
    assert after["holiday/img-001.jpg"] == before["trip/img-001.jpg"]


def test_many_files_import_through_workers_as_through_threads(tmp_path: Path) -> None:
    src = tmp_path / "card"
    photo_folder(src, 13)
    (src / "broken.jpg").write_bytes(camera_jpeg(7)[:2000])
    (src / "again.jpg").write_bytes(camera_jpeg(2))  # the same bytes as img-002.jpg
    items = [ImportItem(p, "card") for p in sorted(src.rglob("*.jpg"))]
    results = {}
    for processes in (False, True):
        with Library.open(tmp_path / f"lib-{processes}") as lib:
            report = ImportSession(lib, items, processes=processes).run()
            results[processes] = (
                sorted((r.filename, r.sha256, r.width, r.height, r.exif) for r in report.added),
                sorted((r.path.name, r.code) for r in report.rejected),
            )
            assert os.listdir(lib.core.tmp_dir) == []
    assert results[True] == results[False]
    assert len(results[True][0]) == 13
    assert results[True][1] == [("broken.jpg", "malformed_image"), ("img-002.jpg", "duplicate")]


def test_a_cancelled_import_in_workers_leaves_nothing_half_done(tmp_path: Path) -> None:
    src = tmp_path / "card"
    photo_folder(src, 24)
    items = [ImportItem(p, None) for p in sorted(src.rglob("*.jpg"))]
    with Library.open(tmp_path / "lib") as lib:
        session = ImportSession(lib, items, processes=True, workers=2)

        def progress(done: int, total: int, record: object, rejection: object) -> None:
            if done == 3:
                session.cancel()

        report = session.run(progress)
        assert report.cancelled
        assert 3 <= len(report.added) < 24
        assert os.listdir(lib.core.tmp_dir) == []  # copies made ahead were removed
        assert lib.count() == len(report.added)


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM images").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not created yet


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def test_kill_mid_adoption_then_reopen_finishes_it(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    n = 160
    photo_folder(root, n)
    script = (
        "import sys\n"
        "from imageshelf.app.library import Library\n"
        "if __name__ == '__main__':\n"
        "    Library.open(sys.argv[1]).close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script, str(root)], env=env)
    db = root / ".imageshelf" / "library.db"
    workers: list[int] = []
    deadline = time.monotonic() + 120
    try:
        while _count(db) == 0 and proc.poll() is None:  # the first batch committed
            assert time.monotonic() < deadline, "adoption never committed a row"
            workers = _children(proc.pid) or workers
            time.sleep(0.02)
        workers = _children(proc.pid) or workers
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    adopted_before = _count(db)
    assert 0 < adopted_before < n, "the kill came after the whole adoption"
    assert workers, "the adoption ran no worker processes"
    # The workers see their parent gone and end (they hold nothing of the library).
    for pid in workers:
        while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid):
            assert time.monotonic() < deadline + 60, f"worker {pid} outlived its library"
            time.sleep(0.05)
    with Library.open(root) as lib:
        assert lib.count() == n
        records = all_records(lib)
        assert len({r.relpath for r in records}) == n
        for rec in records:
            _, thumb = lib.thumbnail(rec.id)
            with Image.open(thumb.path) as img:
                img.load()  # every thumbnail whole, whichever side of the kill made it


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
