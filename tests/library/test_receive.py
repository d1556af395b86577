"""Uploads streamed into ``tmp/`` by the caller (``Library.receive``) and taken over by
``prepare_file``: hashed and counted on the way in, the limit enforced at the byte past
it, nothing left behind on any failure, and the record returned is the row committed."""

from __future__ import annotations

import errno
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from imageshelf.app.library import Library, MalformedImage, StorageError, TooLarge, files


def _received(library: Library, data: bytes, chunk: int = 7000) -> tuple[Path, int, str]:
    incoming = library.receive()
    for start in range(0, len(data), chunk):
        incoming.write(data[start : start + chunk])
    return incoming.finish()


def test_received_upload_is_committed_as_read_back(
    library: Library, make_image: Callable[..., bytes]
) -> None:
    data = make_image("JPEG", (900, 700))
    tmp, size, sha = _received(library, data)
    assert tmp.parent == library.tmp_dir
    assert (size, sha) == (len(data), hashlib.sha256(data).hexdigest())
    prepared = library.prepare_file(tmp, size, sha, "Photo ñ.jpg")
    record = library.commit(prepared, alt_text="A kite", folder="a/b")
    # The record is built from the values inserted; it must be the row as stored.
    assert library.get(record.id) == record
    assert library.list_images(search="kite").items == [record]
    assert (library.root / "a" / "b" / record.filename).read_bytes() == data
    assert (record.width, record.height) == (900, 700)
    assert library.thumbnails.lookup(sha) is not None
    assert list(library.tmp_dir.iterdir()) == []


def test_the_byte_past_the_limit_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    incoming = files.Incoming(tmp_path, 10)
    incoming.write(b"0123456789")
    with pytest.raises(TooLarge):
        incoming.write(b"x")
    assert list(tmp_path.iterdir()) == []
    incoming.close()  # after a refusal: nothing more to do, no error


def test_a_sink_closed_unfinished_leaves_nothing(tmp_path: Path) -> None:
    incoming = files.Incoming(tmp_path, 100)
    incoming.write(b"half an upload")
    incoming.close()
    assert list(tmp_path.iterdir()) == []


def test_a_finished_sink_is_kept_by_close(tmp_path: Path) -> None:
    incoming = files.Incoming(tmp_path, 100)
    incoming.write(b"whole")
    path, size, sha = incoming.finish()
    incoming.close()
    assert path.read_bytes() == b"whole"
    assert (size, sha) == (5, hashlib.sha256(b"whole").hexdigest())


@pytest.mark.parametrize(
    ("cut", "error"), [(300, MalformedImage), (0, MalformedImage)], ids=["truncated", "empty"]
)
def test_a_refused_file_is_removed_from_tmp(
    library: Library, make_image: Callable[..., bytes], cut: int, error: type[Exception]
) -> None:
    data = make_image("JPEG", (300, 300))[:cut]
    tmp, size, sha = _received(library, data)
    with pytest.raises(error):
        library.prepare_file(tmp, size, sha, "x.jpg")
    assert list(library.tmp_dir.iterdir()) == []
    assert library.count() == 0


def test_prepare_file_takes_only_files_in_tmp(
    library: Library, make_image: Callable[..., bytes], tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.jpg"
    data = make_image()
    outside.write_bytes(data)
    with pytest.raises(ValueError):
        library.prepare_file(outside, len(data), hashlib.sha256(data).hexdigest(), "x.jpg")
    assert outside.read_bytes() == data  # not ours: left alone


def test_the_streaming_copy_still_refuses_past_the_limit(
    library: Library, make_image: Callable[..., bytes]
) -> None:
    data = make_image("PNG", (200, 200))
    with pytest.raises(TooLarge):
        files.stream_to_tmp(io.BytesIO(data), library.tmp_dir, len(data) - 1)
    assert list(library.tmp_dir.iterdir()) == []
    path, size, _ = files.stream_to_tmp(io.BytesIO(data), library.tmp_dir, len(data))
    assert (path.read_bytes(), size) == (data, len(data))


def test_an_upload_fsynced_while_it_is_decoded_is_durable_before_it_is_prepared(
    library: Library, make_image: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``finish(durable=False)`` + ``prepare_file(synced=False)`` (the server's way): the
    file's fsync runs beside the decode and is done before ``prepare_file`` returns."""
    synced: list[Path] = []
    real = files.fsync_file

    def fsync_file(path: Path) -> None:
        real(path)
        synced.append(path)

    monkeypatch.setattr(files, "fsync_file", fsync_file)
    data = make_image("JPEG", (300, 200))
    incoming = library.receive()
    incoming.write(data)
    tmp, size, sha = incoming.finish(durable=False)
    assert synced == []
    prepared = library.prepare_file(tmp, size, sha, "a.jpg", synced=False)
    assert synced == [tmp]
    record = library.commit(prepared)
    assert (library.root / record.relpath).read_bytes() == data


def test_an_fsync_that_fails_beside_the_decode_refuses_the_upload_and_keeps_nothing(
    library: Library, make_image: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fsync_file(path: Path) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files, "fsync_file", fsync_file)
    incoming = library.receive()
    incoming.write(make_image("JPEG", (300, 200)))
    tmp, size, sha = incoming.finish(durable=False)
    with pytest.raises(StorageError, match="save the image"):
        library.prepare_file(tmp, size, sha, "a.jpg", synced=False)
    assert list(library.tmp_dir.iterdir()) == []
    assert library.thumbnails.lookup(sha) is None  # stored beside the fsync, then dropped
    assert library.count() == 0
