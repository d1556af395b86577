"""A library whose images are in an S3 bucket (moto's server on loopback), its database
SQLite in a local folder: uploads, range reads, conditional create, moves that copy no
object, the trash, and the reconcile job (orphans after the grace, missing objects)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from imageshelf.app.library import Library
from imageshelf.app.library.storage_s3 import S3Storage
from imageshelf.app.library.storage_s3_collect import GRACE_S, Collected
from tests.conftest import image_bytes

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("s3_upload_worker.py")


def _objects(storage: S3Storage, under: str = "") -> dict[str, int]:
    return {key: size for key, size, _mtime in storage.list_objects(under)}


@contextmanager
def _requests(storage: S3Storage) -> Iterator[list[str]]:
    """The S3 operations the storage's client sends inside the block, by name."""
    seen: list[str] = []

    def record(model: Any, **_: Any) -> None:
        seen.append(model.name)

    events = storage.client.meta.events
    events.register("before-call.s3", record, unique_id="count-requests")
    try:
        yield seen
    finally:
        events.unregister("before-call.s3", unique_id="count-requests")


def _png(side: int = 40, seed: int = 0) -> bytes:
    return image_bytes("PNG", (side + seed, side))


def test_an_upload_is_one_object_keyed_by_id_and_nothing_in_the_folder(
    s3_library: Library, s3_storage: S3Storage
) -> None:
    data = _png()
    with _requests(s3_storage) as sent:
        record = s3_library.add(io.BytesIO(data), "logo.png", folder="brand")
    assert sent.count("PutObject") == 2  # the original (conditional) and its thumbnail
    assert _objects(s3_storage, "originals/") == {f"originals/{record.id}": len(data)}
    thumbs = _objects(s3_storage, "derived/thumbs/")
    assert list(thumbs) == [f"derived/thumbs/{record.sha256[:2]}/{record.sha256}.jpg"]
    assert not (s3_library.root / "brand").exists()  # bytes live in the bucket only
    _record, fp = s3_library.open_original(record.id)
    with fp:
        assert fp.read() == data
    with s3_library.thumbnail(record.id)[1].open() as thumb:
        assert thumb.read().startswith(b"\xff\xd8")  # an opaque image's is a JPEG


def test_range_reads_stream_from_the_store(s3_library: Library, s3_storage: S3Storage) -> None:
    data = image_bytes("JPEG", (400, 300))
    record = s3_library.add(io.BytesIO(data), "photo.jpg")
    key = s3_library.core.key_of(record)
    with _requests(s3_storage) as sent, s3_storage.open(key, offset=len(data) - 100) as fp:
        assert fp.read() == data[-100:]
    assert sent == ["GetObject"]  # one ranged GET, nothing downloaded first
    with s3_storage.open(key) as fp:
        fp.seek(1000)
        assert fp.read(24) == data[1000:1024]
        fp.seek(10)
        assert fp.read(5) == data[10:15]


def test_conditional_create_refuses_to_replace_an_object(s3_storage: S3Storage) -> None:
    assert s3_storage.put_new("originals/img_x", b"first")
    assert not s3_storage.put_new("originals/img_x", b"second")
    assert s3_storage.puts.supported is True  # the server honoured If-None-Match: *
    # A server that does not support it: HEAD, then PUT only when absent.
    s3_storage.puts.supported = False
    with _requests(s3_storage) as sent:
        assert not s3_storage.put_new("originals/img_x", b"third")
        assert s3_storage.put_new("originals/img_y", b"other")
    assert sent == ["HeadObject", "HeadObject", "PutObject"]
    with s3_storage.open("originals/img_x") as fp:
        assert fp.read() == b"first"


def test_moving_images_and_folders_copies_no_object(
    s3_library: Library, s3_storage: S3Storage
) -> None:
    ids = [
        s3_library.add(io.BytesIO(_png(20, i)), f"p{i}.png", folder=f"trip/day{i % 3}").id
        for i in range(12)
    ]
    before = _objects(s3_storage)
    with _requests(s3_storage) as sent:
        assert s3_library.move_folder("trip", "archive/2024") == "archive/2024/trip"
        s3_library.rename_folder("archive/2024/trip", "holiday")
        moved = s3_library.update(ids[0], folder="elsewhere")
    assert sent == []  # rows only: not one request to the store
    assert _objects(s3_storage) == before
    assert moved.folder == "elsewhere"
    assert {s3_library.get(i).folder for i in ids[1:]} == {
        f"archive/2024/holiday/day{d}" for d in range(3)
    }
    _rec, fp = s3_library.open_original(ids[5])
    with fp:
        assert fp.read() == _png(20, 5)


def test_trash_restore_and_purge(s3_library: Library, s3_storage: S3Storage) -> None:
    record = s3_library.add(io.BytesIO(_png()), "t.png", folder="f")
    key = f"originals/{record.id}"
    s3_library.delete(record.id)
    assert key in _objects(s3_storage)  # kept while in the trash
    assert s3_library.trash.thumbnail(record.id)[1].size > 0
    back = s3_library.trash.restore(record.id)
    assert (back.id, back.folder, back.filename) == (record.id, "f", "t.png")
    s3_library.delete(record.id)
    s3_library.trash.purge(record.id)
    assert key not in _objects(s3_storage)


def test_orphans_are_collected_after_the_grace_only(
    s3_library: Library, s3_storage: S3Storage
) -> None:
    kept = s3_library.add(io.BytesIO(_png()), "kept.png")
    trashed = s3_library.add(io.BytesIO(_png(30)), "trashed.png")
    s3_library.delete(trashed.id)
    # An upload killed between its PUT and its commit leaves this:
    assert s3_storage.put_new("originals/img_01JDQ8ZK7Q5W3V2X1Y0ZORPHAN", b"orphan")
    now = time.time()
    early = s3_library.collect_storage(now=now)
    assert isinstance(early, Collected)
    assert (early.orphans_removed, early.orphans_kept, early.missing) == ([], 1, [])
    late = s3_library.collect_storage(now=now + GRACE_S + 60)
    assert isinstance(late, Collected)
    assert late.orphans_removed == ["img_01JDQ8ZK7Q5W3V2X1Y0ZORPHAN"]
    assert set(_objects(s3_storage, "originals/")) == {
        f"originals/{kept.id}",
        f"originals/{trashed.id}",  # a trashed image's object is no orphan
    }
    # An object lost behind the library's back is reported, its row left alone.
    s3_storage.client.delete_object(Bucket=s3_storage.bucket, Key=f"lib/originals/{kept.id}")
    report = s3_library.collect_storage(now=now + GRACE_S + 60)
    assert isinstance(report, Collected)
    assert report.missing == [kept.id]
    assert s3_library.get(kept.id).id == kept.id


def test_stale_multipart_uploads_are_aborted(s3_library: Library, s3_storage: S3Storage) -> None:
    client = s3_storage.client
    client.create_multipart_upload(Bucket=s3_storage.bucket, Key="lib/originals/img_part")
    # moto dates every upload 2010-11-10 (a constant of its own): the clock is set by it.
    (upload,) = client.list_multipart_uploads(Bucket=s3_storage.bucket)["Uploads"]
    started = upload["Initiated"].timestamp()
    early = s3_library.collect_storage(now=started + 60)
    assert isinstance(early, Collected) and early.uploads_aborted == 0
    late = s3_library.collect_storage(now=started + GRACE_S + 60)
    assert isinstance(late, Collected) and late.uploads_aborted == 1
    assert client.list_multipart_uploads(Bucket=s3_storage.bucket).get("Uploads") is None


@pytest.mark.parametrize("url", ["s3://", "s3://bucket?color=blue", "ftp://host/x"])
def test_bad_storage_addresses_are_refused_in_words(url: str) -> None:
    from imageshelf.app.library import InvalidInput, storage_from_url

    with pytest.raises(InvalidInput):
        storage_from_url(url)


def test_kill_9_mid_upload_leaves_no_row_without_its_object(
    s3_storage: S3Storage, s3_bucket: str, tmp_path: Path
) -> None:
    """A process killed between an object's PUT and its row's commit: every upload it
    acknowledged is there with its object, no row lacks an object, and the one object
    without a row is collected once the grace has passed."""
    db = tmp_path / "db"
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), str(db), f"s3://{s3_bucket}/lib", "5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    acked: list[str] = []
    stalled = ""
    assert worker.stdout is not None
    try:
        for raw in worker.stdout:
            word, value = raw.decode().split()[:2]
            if word == "added":
                acked.append(value)
            elif word == "put":
                stalled = value
                break
    finally:
        worker.kill()  # SIGKILL: no cleanup runs
        worker.wait(timeout=30)
        worker.stdout.close()
        if worker.stdin is not None:
            worker.stdin.close()
    assert len(acked) == 5 and stalled.startswith("lib/originals/img_")
    with Library.open(db, storage=s3_storage) as lib:
        rows = {r.id for r in lib.list_images(page_size=100).items}
        assert rows == set(acked)  # every acknowledged upload, and only those
        objects = set(_objects(s3_storage, "originals/"))
        assert {f"originals/{i}" for i in rows} <= objects  # no row without its object
        orphan = stalled.removeprefix("lib/originals/")
        assert objects - {f"originals/{i}" for i in rows} == {f"originals/{orphan}"}
        report = lib.collect_storage(now=time.time() + GRACE_S + 60)
        assert isinstance(report, Collected)
        assert (report.orphans_removed, report.missing) == ([orphan], [])
    assert set(_objects(s3_storage, "originals/")) == {f"originals/{i}" for i in acked}


def test_a_download_archive_streams_the_objects(s3_library: Library) -> None:
    """A zip of a folder on S3: every entry's bytes from its object, also from an
    offset inside the archive (a resumed download); a moved image is still found."""
    import zipfile

    datas = {f"d{i}.png": _png(24, i) for i in range(3)}
    ids = [s3_library.add(io.BytesIO(d), n, folder="pack").id for n, d in datas.items()]
    job = s3_library.downloads.create(folder="pack")
    assert s3_library.downloads.wait(job.id, timeout=60).status.name == "READY"
    s3_library.update(ids[0], folder="moved-after")  # rows only: the key is the same
    archive = s3_library.downloads.archive(job.id)
    whole = archive.stream().read()
    with zipfile.ZipFile(io.BytesIO(whole)) as zf:
        assert {n.rpartition("/")[2]: zf.read(n) for n in zf.namelist()} == datas
    assert archive.stream(len(whole) - 100).read() == whole[-100:]


def test_an_unreachable_store_is_a_storage_error_and_leaves_nothing(
    s3_server: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from imageshelf.app.library import StorageError, storage_from_url

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    storage = storage_from_url("s3://nowhere/lib", tmp_path / "staging")
    with Library.open(tmp_path / "db", storage=storage) as lib:
        with pytest.raises(StorageError, match="Could not"):
            lib.add(io.BytesIO(_png()), "a.png")
        assert lib.count() == 0
    assert list((tmp_path / "staging").iterdir()) == []
