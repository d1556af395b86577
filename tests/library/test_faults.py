"""The disk says no — full, read-only, permission denied, unreadable — and the library
answers with a clear ``StorageError`` and stays consistent: nothing half-written, no row
without its file, no file without its row, nothing left in ``tmp/``.

Real faults on real filesystems: a tiny tmpfs the test mounts (full disk, read-only
remount) and an unprivileged child process for permissions (root ignores them)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import random
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from imageshelf.app.library import Library, StorageError
from imageshelf.app.library.records import ImageRecord
from tests.conftest import image_bytes
from tests.library.helpers import library_files, row_count, sha256, tmp_leftovers
from tests.mounts import tmpfs


def noisy_png(size: tuple[int, int], seed: int = 0) -> bytes:
    """A PNG that does not compress: its size on disk is close to w*h*3."""
    rng = random.Random(seed)
    img = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def assert_consistent(lib: Library) -> None:
    """Every row's file is there with its bytes; every image file has a row; tmp/ empty."""
    rows = lib.list_images(page_size=100).items
    assert len(rows) == row_count(lib)
    for record in rows:
        path = lib.path_of(record.folder, record.filename)
        assert path.is_file(), record.relpath
        assert sha256(path.read_bytes()) == record.sha256
    files_on_disk = {p for p in library_files(lib.root) if (lib.root / p).is_file()}
    assert files_on_disk == {r.relpath for r in rows}
    assert tmp_leftovers(lib) == []
    thumbs = {p.name.split(".")[0] for p in lib.thumbnails.directory.rglob("*") if p.is_file()}
    assert thumbs <= {r.sha256 for r in rows}  # no thumbnail of an image never added


def fill(path: Path, leave: int) -> None:
    """Fills the filesystem holding ``path`` until ENOSPC, then frees ``leave`` bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    written = 0
    block = b"\0" * 65536
    try:
        while True:
            written += os.write(fd, block if written % 65536 == 0 else block[:4096])
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    os.truncate(path, max(0, written - leave))


# --- a full disk -------------------------------------------------------------------------


def test_an_upload_larger_than_the_free_space_is_refused_cleanly(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "2m") as disk, Library.open(disk / "lib") as lib:
        kept = lib.add(io.BytesIO(image_bytes()), "kept.jpg", alt_text="before")
        with pytest.raises(StorageError) as info:
            lib.add(io.BytesIO(noisy_png((900, 900))), "big.png")
        assert "disk is full" in str(info.value)
        assert_consistent(lib)
        assert lib.get(kept.id) == kept
        assert lib.count() == 1


def test_whenever_the_disk_fills_the_library_stays_consistent(tmp_path: Path) -> None:
    """The disk runs out at a different step each time (the upload's bytes, the
    thumbnail, the database): each add either succeeds whole or leaves nothing."""
    data = noisy_png((160, 120), seed=1)
    with tmpfs(tmp_path / "small", "3m") as disk, Library.open(disk / "lib") as lib:
        filler = disk / "filler"
        outcomes: list[str] = []
        added: list[ImageRecord] = []
        # Every 4 KiB of free space from none to the upload plus its thumbnail and rows.
        for leave in range(0, len(data) + 96 * 1024, 4096):
            fill(filler, leave)
            try:
                added.append(lib.add(io.BytesIO(data), "shot.png", alt_text=f"left {leave}"))
                outcomes.append("added")
            except StorageError as exc:
                assert "disk is full" in str(exc) or "Could not" in str(exc)
                outcomes.append("refused")
            filler.unlink()
            assert_consistent(lib)
        assert "refused" in outcomes and "added" in outcomes
        # With room again everything works, and nothing refused came back.
        again = lib.add(io.BytesIO(data), "after.png")
        assert lib.count() == len(added) + 1
        assert lib.get(again.id).sha256 == sha256(data)
        for record in added:
            assert lib.get(record.id).alt_text == record.alt_text


def test_a_full_disk_during_an_edit_keeps_the_old_values(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "2m") as disk, Library.open(disk / "lib") as lib:
        record = lib.add(io.BytesIO(image_bytes()), "a.jpg", alt_text="old")
        fill(disk / "filler", 0)
        outcome = "updated"
        try:
            # Long enough to need new database pages on a full disk.
            lib.update(record.id, alt_text="new " * 400)
        except StorageError:
            outcome = "refused"
        got = lib.get(record.id)
        assert got.alt_text == ("old" if outcome == "refused" else "new " * 400)
        (disk / "filler").unlink()
        assert_consistent(lib)


# --- a read-only library -----------------------------------------------------------------


def remount(disk: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)], check=True)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made read-only in place by a read-only bind mount of itself (a whole
    filesystem cannot turn read-only while the database is open for writing)."""
    if os.geteuid() != 0:
        pytest.skip("bind mounts need root")
    done = subprocess.run(
        ["mount", "--bind", str(folder), str(folder)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_read_only_folder_refuses_writes_and_still_reads(library: Library) -> None:
    record = library.add(io.BytesIO(image_bytes()), "a.jpg", alt_text="x", folder="f")
    library.thumbnail(record.id)
    with read_only(library.root / "f"):
        for attempt in (
            lambda: library.add(io.BytesIO(image_bytes("PNG")), "b.png", folder="f"),
            lambda: library.update(record.id, folder="elsewhere"),
            lambda: library.update(record.id, folder=None, alt_text="changed"),
            lambda: library.delete(record.id),
        ):
            with pytest.raises(StorageError) as info:
                attempt()
            assert "read-only" in str(info.value) or "Could not" in str(info.value)
        assert library.get(record.id) == record
        assert library.list_images().total == 1
        assert library.thumbnail(record.id)[1].size > 0
        _, fp = library.open_original(record.id)
        with fp:
            assert sha256(fp.read()) == record.sha256
        assert_consistent(library)
    assert_consistent(library)
    moved = library.update(record.id, folder="elsewhere")  # writable again: all works
    assert library.get(record.id) == moved


def test_a_library_on_a_read_only_disk_opens_read_only(tmp_path: Path) -> None:
    """Issue 11: browsing still works; every write is a clear error; a new library on
    such a disk cannot be made."""
    with tmpfs(tmp_path / "ro", "2m") as disk:
        with Library.open(disk / "lib") as lib:
            image = lib.add(io.BytesIO(image_bytes()), "kept.jpg")
        remount(disk, "ro")
        try:
            with Library.open(disk / "lib") as lib:
                assert lib.read_only
                assert lib.get(image.id) == image
                with pytest.raises(StorageError) as info:
                    lib.add(io.BytesIO(image_bytes("PNG")), "new.png")
                assert "read-only" in str(info.value)
                with pytest.raises(StorageError):
                    lib.update(image.id, alt_text="no")
            with pytest.raises(StorageError):
                Library.open(disk / "new library")
        finally:
            remount(disk, "rw")


# --- permissions (an unprivileged child: root is not refused anything) -------------------


def as_nobody(work: Callable[[Path], dict[str, object]]) -> dict[str, object]:
    """Runs ``work(folder)`` in a forked child that dropped root for ``nobody``, in a
    folder that user owns; returns what it reported (or fails with its error)."""
    if os.geteuid() != 0:
        pytest.skip("dropping privileges needs root")
    import json
    import shutil
    import traceback

    # The child cannot read the interpreter's own folder (root's home): import now what
    # it will need later.
    import imageshelf.app.library.reconcile
    import imageshelf.app.library.watcher  # noqa: F401

    Library.open(base_warmup := Path(tempfile.mkdtemp())).close()
    shutil.rmtree(base_warmup)
    Image.init()
    base = Path("/tmp") / f"imageshelf-perm-{uuid.uuid4().hex}"
    base.mkdir(mode=0o755)
    # Made here, handed over: a new database would make the child read the migration
    # scripts, which may sit in a home folder it cannot enter (a clone under /root).
    Library.open(base / "lib").close()
    for folder, dirs, names in os.walk(base):
        for name in [*dirs, *names]:
            os.chown(os.path.join(folder, name), 65534, 65534)
    os.chown(base, 65534, 65534)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running the parent's cleanup
        os.close(read_end)
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            result: dict[str, object] = {"ok": work(base)}
        except BaseException:
            result = {"error": traceback.format_exc()}
        with os.fdopen(write_end, "w") as out:
            out.write(json.dumps(result))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as inp:
        reported = json.loads(inp.read() or '{"error": "the child said nothing"}')
    os.waitpid(pid, 0)
    shutil.rmtree(base, ignore_errors=True)
    assert "error" not in reported, reported.get("error")
    return reported["ok"]  # type: ignore[return-value]


def _permission_scenario(base: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    with Library.open(base / "lib") as lib:
        record = lib.add(io.BytesIO(image_bytes()), "a.jpg", folder="locked", alt_text="a")
        (lib.root / "locked").chmod(0o555)
        before_files = library_files(lib.root)
        for name, attempt in (
            ("add", lambda: lib.add(io.BytesIO(image_bytes("PNG")), "b.png", folder="locked")),
            ("move_out", lambda: lib.update(record.id, folder=None)),
            ("delete", lambda: lib.delete(record.id)),
        ):
            try:
                attempt()
                out[name] = "no error"
            except StorageError as exc:
                out[name] = str(exc)
        out["files_unchanged"] = library_files(lib.root) == before_files
        out["record_unchanged"] = lib.get(record.id) == record
        out["tmp"] = tmp_leftovers(lib)
        out["rows"] = row_count(lib)
        (lib.root / "locked").chmod(0o755)

        # An image whose file cannot be read: clear errors, and it stays what it was.
        path = lib.path_of(record.folder, record.filename)
        lib.thumbnails.discard(record.sha256)
        path.chmod(0o000)
        for name, attempt in (
            ("open_original", lambda: lib.open_original(record.id)),
            ("thumbnail", lambda: lib.thumbnail(record.id)),
        ):
            try:
                attempt()
                out[name] = "no error"
            except StorageError as exc:
                out[name] = str(exc)
        path.chmod(0o644)
        out["after"] = lib.get(record.id) == record
    # An unreadable file copied in while closed is left alone at the next open.
    unreadable = base / "lib" / "secret.jpg"
    unreadable.write_bytes(image_bytes())
    unreadable.chmod(0o000)
    with Library.open(base / "lib") as lib:
        out["reopened_rows"] = row_count(lib)
        out["unreadable_kept"] = unreadable.exists()
    return out


def test_permission_errors_are_clear_and_change_nothing() -> None:
    seen = as_nobody(_permission_scenario)

    for name in ("add", "move_out", "delete"):
        assert "permission was denied" in str(seen[name]), (name, seen[name])
    assert seen["files_unchanged"] is True
    assert seen["record_unchanged"] is True
    assert seen["tmp"] == []
    assert seen["rows"] == 1
    for name in ("open_original", "thumbnail"):
        assert "permission was denied" in str(seen[name]), (name, seen[name])
    assert seen["after"] is True
    assert seen["reopened_rows"] == 1
    assert seen["unreadable_kept"] is True
