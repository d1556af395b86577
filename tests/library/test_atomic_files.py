"""The new files every upload makes (app/library/files.py): ``create_new`` (the upload's
file in ``tmp/``, the thumbnail's temporary), ``write_atomic`` and ``write_into_cache``."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from imageshelf.app.library import files


def test_write_atomic_leaves_the_whole_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "thumb.jpg"
    data = bytes(range(256)) * 400  # every byte value, line ends included
    files.write_atomic(target, data)
    files.write_atomic(target, data[::-1])  # over an existing file
    assert target.read_bytes() == data[::-1]
    assert [p.name for p in tmp_path.iterdir()] == ["thumb.jpg"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_new_files_are_the_owners_alone(tmp_path: Path) -> None:
    fd, name = files.create_new(os.fspath(tmp_path), files.TMP_PREFIX)
    os.close(fd)
    assert Path(name).name.startswith(files.TMP_PREFIX)
    assert stat.S_IMODE(os.stat(name).st_mode) == 0o600
    files.write_atomic(tmp_path / "token", b"secret")
    assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o600


def test_create_new_never_opens_a_name_that_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = tmp_path / f"{files.TMP_PREFIX}000000000000aaaa"
    taken.write_bytes(b"someone else's")
    names = iter([0xAAAA, 0xAAAA, 0xBBBB])
    monkeypatch.setattr(files, "_random_name_bits", lambda: next(names))
    fd, name = files.create_new(os.fspath(tmp_path), files.TMP_PREFIX)
    with os.fdopen(fd, "wb") as out:
        out.write(b"mine")
    assert Path(name).name == f"{files.TMP_PREFIX}000000000000bbbb"
    assert taken.read_bytes() == b"someone else's"
    assert Path(name).read_bytes() == b"mine"


def test_new_names_are_random_and_a_forked_child_draws_its_own(tmp_path: Path) -> None:
    """Names come from one generator a process (no system call each); a child made by
    ``fork`` (the decode workers' fork server) must not repeat its parent's names."""
    made = [files.create_new(os.fspath(tmp_path), "x-") for _ in range(50)]
    for fd, _ in made:
        os.close(fd)
    names = {Path(name).name for _, name in made}
    assert len(names) == 50
    assert all(len(n) == len("x-") + 16 and int(n[2:], 16) >= 0 for n in names)
    if not hasattr(os, "fork"):
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next name, then gone
        try:
            os.write(write, f"{files._random_name_bits():016x}".encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 16
    assert child != f"{files._random_name_bits():016x}"


def test_write_into_cache_makes_its_folder_when_missing(tmp_path: Path) -> None:
    target = tmp_path / "thumbs" / "ab" / "ab12.jpg"
    files.write_into_cache(target, b"first")
    assert target.read_bytes() == b"first"
    files.write_into_cache(target, b"second")  # the folder there: written straight
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["ab12.jpg"]


def test_write_into_cache_into_a_file_where_a_folder_belongs_fails(tmp_path: Path) -> None:
    (tmp_path / "thumbs").write_bytes(b"not a folder")
    with pytest.raises(OSError):
        files.write_into_cache(tmp_path / "thumbs" / "ab" / "x.jpg", b"data")
    assert (tmp_path / "thumbs").read_bytes() == b"not a folder"
