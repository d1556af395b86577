"""Download jobs in the core: the zip writer alone (ZIP64 by count and by size without real
files), the checks while streaming, the name rule, and jobs that survive a restart."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from imageshelf.app.library import Library
from imageshelf.app.library.downloads import JobStatus
from imageshelf.app.library.downloads_names import entry_name, unique_entry_names
from imageshelf.app.library.downloads_zip import (
    ArchiveChanged,
    ArchiveLayout,
    ArchiveStream,
    ZipEntry,
)
from tests.conftest import image_bytes

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py


class _Generated:
    """Entry ``i`` is ``content(i)``: an archive without a file behind it."""

    def __init__(self, content: list[bytes]) -> None:
        self.content = content

    def read(self, index: int, offset: int, size: int) -> bytes:
        return self.content[index][offset : offset + size]


def _layout(content: list[bytes], names: list[str]) -> ArchiveLayout:
    return ArchiveLayout(
        [
            ZipEntry(n, len(c), zlib.crc32(c), 1_700_000_000)
            for n, c in zip(names, content, strict=True)
        ]
    )


def _noise_png(side: int) -> bytes:
    """A PNG that does not compress: larger than any read buffer (≈ 270 KB at 300)."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def _unzip_test(path: Path) -> None:
    if shutil.which("unzip") is None:
        pytest.fail("unzip is not installed: scripts/bootstrap.sh installs it")
    done = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zip64_by_count_70000_entries(tmp_path: Path) -> None:
    """Past 65,534 entries the classic end record cannot count them: ZIP64 end record
    and locator, read by Python's zipfile and checked (every CRC) by Info-ZIP's unzip."""
    count = 70_000
    content = [b"%06d" % i for i in range(count)]
    layout = _layout(content, [f"many/{i}.png" for i in range(count)])
    assert layout.zip64
    data = ArchiveStream(layout, _Generated(content)).read()
    assert len(data) == layout.size
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert len(infos) == count
        assert zf.read("many/69999.png") == b"069999"
    path = tmp_path / "many.zip"
    path.write_bytes(data)
    _unzip_test(path)


def test_zip64_by_size_without_writing_five_gib() -> None:
    """An entry of 5 GiB: sizes and the next entry's offset in ZIP64 extra fields. The
    archive is read by zipfile through a seekable view that generates it on demand."""
    size = 5 * 1024**3
    crc = 0  # never checked: only the small entry after it is read

    class Zeros:
        def read(self, index: int, offset: int, n: int) -> bytes:
            return bytes(n) if index == 0 else b"after"[offset : offset + n]

    layout = ArchiveLayout(
        [ZipEntry("zeros.bin", size, crc, 0), ZipEntry("after.txt", 5, zlib.crc32(b"after"), 0)]
    )
    stream = ArchiveStream(layout, Zeros())
    with zipfile.ZipFile(stream) as zf:  # type: ignore[arg-type]
        big, after = zf.infolist()
        assert (big.file_size, after.header_offset > 2**32) == (size, True)
        assert zf.read("after.txt") == b"after"


def test_any_offset_reads_the_same_bytes() -> None:
    content = [os.urandom(n) for n in (0, 1, 300, 4096)]
    layout = _layout(content, ["empty", "é/one", "a/b/three", "four"])
    whole = ArchiveStream(layout, _Generated(content)).read()
    for step in (1, 7, 512):
        pieces = [
            ArchiveStream(layout, _Generated(content), p, p + step).read()
            for p in range(0, layout.size, step)
        ]
        assert b"".join(pieces) == whole
    stream = ArchiveStream(layout, _Generated(content), 100, 200)
    assert stream.seek(0, io.SEEK_END) == 200  # the end a server asks for is the range's


def test_a_source_that_comes_up_short_stops_the_stream() -> None:
    layout = _layout([b"abc"], ["x"])
    with pytest.raises(ArchiveChanged):
        ArchiveStream(layout, _Generated([b""])).read()


def test_names_are_unique_case_insensitively() -> None:
    assert unique_entry_names(
        ["a/Logo.png", "a/logo.png", "a/logo-2.png", "b/x", "B/X", "Ä.png", "A\u0308.png"]
    ) == ["a/Logo.png", "a/logo-3.png", "a/logo-2.png", "b/x", "B/X-2", "Ä.png", "A\u0308-2.png"]


def test_entry_name_is_folder_slash_filename(library: Library) -> None:
    root = library.add(io.BytesIO(image_bytes("PNG")), original_filename="r.png")
    deep = library.add(io.BytesIO(image_bytes("PNG")), original_filename="d.png", folder="a/b")
    assert (entry_name(root), entry_name(deep)) == ("r.png", "a/b/d.png")


def test_a_file_edited_in_place_mid_stream_stops_it(library: Library) -> None:
    """Same size, mtime put back: only the CRC-32 fed while streaming can tell."""
    ids = [library.add(io.BytesIO(_noise_png(300)), original_filename="big.png").id]
    ids.append(library.add(io.BytesIO(image_bytes("PNG")), original_filename="s.png").id)
    job = library.downloads.wait(library.downloads.create(image_ids=ids).id, 30)
    stream = library.downloads.archive(job.id).stream()
    first = stream.read(100)  # inside the first file
    assert first
    path = library.original_path(ids[0])[1]
    before = path.stat()
    content = bytearray(path.read_bytes())
    content[-30] ^= 0xFF
    path.write_bytes(bytes(content))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ArchiveChanged):
        stream.read()
    stream.close()


def test_a_range_inside_a_changed_file_is_refused_too(library: Library) -> None:
    ids = [library.add(io.BytesIO(_noise_png(300)), original_filename="a.png").id]
    job = library.downloads.wait(library.downloads.create(image_ids=ids).id, 30)
    archive = library.downloads.archive(job.id)
    path = library.original_path(ids[0])[1]
    before = path.stat()
    content = bytearray(path.read_bytes())
    content[40] ^= 0xFF  # before the range asked for: read only for its CRC
    path.write_bytes(bytes(content))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ArchiveChanged):
        archive.stream(archive.size // 2).read()


def test_jobs_survive_a_restart(library_path: Path) -> None:
    with Library.open(library_path) as lib:
        image = lib.add(io.BytesIO(image_bytes("PNG")), original_filename="kept.png")
        job = lib.downloads.wait(lib.downloads.create(image_ids=[image.id]).id, 30)
        whole = lib.downloads.archive(job.id).stream().read()
    with Library.open(library_path) as lib:
        again = lib.downloads.get(job.id)
        assert (again.status, again.size) == (JobStatus.READY, job.size)
        assert lib.downloads.archive(job.id).stream().read() == whole


def test_a_vanished_file_before_preparation_is_missing(library_path: Path) -> None:
    """A job left PENDING by a stop is prepared at the next open; a file that vanished
    meanwhile (and that the reconcile at open has not yet seen) joins ``missing``."""
    with Library.open(library_path) as lib:
        ids = [
            lib.add(
                io.BytesIO(image_bytes("PNG", color=(n, 0, 0))), original_filename=f"{n}.png"
            ).id
            for n in range(2)
        ]
        lib.downloads.close()  # nothing is prepared from here on: the job stays PENDING
        job = lib.downloads.create(image_ids=ids)
        gone = lib.original_path(ids[1])[1]
    assert job.status is JobStatus.PENDING
    gone.unlink()
    with Library.open(library_path, reconcile=False) as lib:
        ready = lib.downloads.wait(job.id, 30)
        assert (ready.status, ready.count, ready.missing) == (JobStatus.READY, 1, [ids[1]])
        with zipfile.ZipFile(io.BytesIO(lib.downloads.archive(job.id).stream().read())) as zf:
            assert zf.namelist() == ["0.png"]
