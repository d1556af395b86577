"""An import's copy in ``tmp/`` written past the page cache (``direct_copy``): the same
whole, private, fsynced file as a buffered copy, on real files; where the filesystem
takes ``O_DIRECT`` none of it stays in the page cache, and where it cannot be used the
copy goes through the page cache as before."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from imageshelf.app.library import direct_copy, files
from imageshelf.app.library.errors import StorageError


def _bytes(n: int, seed: int) -> bytes:
    return hashlib.shake_256(seed.to_bytes(4, "big")).digest(n)


def _cached_bytes(path: Path) -> int | None:
    """How many of ``path``'s bytes the page cache holds (util-linux ``fincore``)."""
    if shutil.which("fincore") is None:
        return None
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


def _check_copy(path: Path, data: bytes, size: int, sha: str, tmp_dir: Path) -> None:
    assert path.parent == tmp_dir and path.name.startswith(files.TMP_PREFIX)
    assert path.read_bytes() == data and size == len(data) == path.stat().st_size
    assert sha == hashlib.sha256(data).hexdigest()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # as mkstemp makes them


def test_a_copy_is_whole_private_and_past_the_page_cache(tmp_path: Path) -> None:
    tmp_dir = tmp_path / "tmp"
    tmp_dir.mkdir()
    # Not a multiple of any block: the last block is written whole, then cut back.
    first = _bytes(3 * 1024 * 1024 + 12_345, 1)
    path, size, sha = direct_copy.write_copy(first, tmp_dir)
    direct = os.fspath(tmp_dir) not in direct_copy._refused_in
    if direct:
        cached = _cached_bytes(path)
        assert cached in (0, None)  # written from the process's memory, not the cache
    _check_copy(path, first, size, sha, tmp_dir)
    # The buffer is kept: a shorter file after a longer one carries none of its bytes.
    second = _bytes(5_000, 2)
    path2, size2, sha2 = direct_copy.write_copy(second, tmp_dir)
    _check_copy(path2, second, size2, sha2, tmp_dir)
    assert sorted(os.listdir(tmp_dir)) == sorted([path.name, path2.name])


def test_without_direct_io_the_copy_goes_through_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A platform without ``O_DIRECT`` (or a folder whose filesystem refused it) writes
    the same file as before (``files.Incoming``)."""
    monkeypatch.setattr(direct_copy, "_O_DIRECT", 0)
    data = _bytes(200_001, 3)
    path, size, sha = direct_copy.write_copy(data, tmp_path)
    _check_copy(path, data, size, sha, tmp_path)


def test_a_write_the_kernel_refuses_falls_back_leaving_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the kernel refuses the direct write (here a length no block size divides,
    as a filesystem with larger blocks than the buffer's alignment would), the half-made
    file goes, the folder is remembered and the copy is written through the cache."""
    if not direct_copy._O_DIRECT:
        pytest.skip("no O_DIRECT on this platform")
    tmp_dir = tmp_path / "tmp"
    tmp_dir.mkdir()
    monkeypatch.setattr(direct_copy, "_ALIGN", 1)  # write the odd length as it is
    monkeypatch.setattr(direct_copy, "_refused_in", set())
    data = _bytes(100_003, 4)
    path, size, sha = direct_copy.write_copy(data, tmp_dir)
    assert os.fspath(tmp_dir) in direct_copy._refused_in
    _check_copy(path, data, size, sha, tmp_dir)
    assert os.listdir(tmp_dir) == [path.name]


def test_a_second_copy_at_the_same_time_does_not_wait_for_the_buffer(tmp_path: Path) -> None:
    """Two threads of one process copying at once: the one that finds the buffer in use
    writes through the page cache (and neither corrupts the other's bytes)."""
    datas = [_bytes(1_000_000 + i, 10 + i) for i in range(6)]
    out: list[tuple[Path, int, str]] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def copy(data: bytes) -> None:
        try:
            done = direct_copy.write_copy(data, tmp_path)
        except BaseException as exc:
            errors.append(exc)
        else:
            with guard:
                out.append(done)

    with direct_copy._buffer_lock:  # the buffer busy: every copy must go around it
        threads = [threading.Thread(target=copy, args=(d,)) for d in datas[:3]]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    threads = [threading.Thread(target=copy, args=(d,)) for d in datas[3:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == [] and len(out) == 6
    by_sha = {hashlib.sha256(d).hexdigest(): d for d in datas}
    for path, size, sha in out:
        _check_copy(path, by_sha[sha], size, sha, tmp_path)


def test_a_folder_that_cannot_be_written_leaves_nothing_and_says_why(tmp_path: Path) -> None:
    gone = tmp_path / "no-such-folder"
    with pytest.raises(StorageError, match="Could not"):
        direct_copy.write_copy(_bytes(10_000, 4), gone)
    assert not gone.exists()
