"""An import's copy in ``tmp/`` written past the page cache (``O_DIRECT``) by a decode worker.

A buffered write of a 3 MB photo copies it into the page cache and its fsync then writes
those pages back: 1.1-1.4 ms of a worker's CPU a photo, against ≈ 0.45 for the same bytes
sent to the disk straight from the process's memory (docs/performance.md, 21). Nothing
reads the copy back while it is imported (the decode and the EXIF read use the bytes in
memory), so nothing is lost by keeping it out of the cache.

``O_DIRECT`` wants the memory, the length and the file offset aligned to the device's
block: the bytes are copied into a page-aligned buffer this process keeps (an anonymous
map, sized once for the largest file an import takes), written whole blocks at a time,
and the file cut back to its length. Crash safety is what ``files.Incoming`` gives: a
new file only its owner reads under a random name in ``tmp/``, fsynced (the data, its
length, its blocks) before it is returned; the caller links it into the library and
fsyncs the folder as before. Where the filesystem refuses ``O_DIRECT`` (tmpfs, some
network filesystems) or the block size does not fit, ``write_copy`` writes through the
page cache as ``files.Incoming`` does, and remembers not to try that folder again."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import mmap
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from . import files, rules

try:
    import fcntl
except ImportError:  # Windows: no O_DIRECT either
    fcntl = None  # type: ignore[assignment]

# Every device's logical block divides a page (512 or 4096 bytes); the map is page-aligned.
_ALIGN: Final = mmap.PAGESIZE
_CAPACITY: Final = -(-(rules.MAX_UPLOAD_BYTES + 1) // _ALIGN) * _ALIGN
_O_DIRECT: Final = getattr(os, "O_DIRECT", 0) if fcntl is not None else 0

_buffer: mmap.mmap | None = None
# One copy at a time uses the buffer; a second at once (threads calling ``write_copy``
# in one process) writes through the page cache instead of waiting.
_buffer_lock = threading.Lock()
_refused_in: set[str] = set()  # folders whose filesystem refused O_DIRECT


def write_copy(data: bytes, tmp_dir: Path) -> tuple[Path, int, str]:
    """``data`` as a new file in ``tmp_dir``, fsynced: (path, size, sha256 hex), as
    ``files.Incoming.finish`` returns. ``StorageError`` when it cannot be kept; nothing
    is left behind then."""
    return save(data, tmp_dir), len(data), hashlib.sha256(data).hexdigest()


def save(data: bytes, tmp_dir: Path) -> Path:
    """``write_copy`` without the hash (a caller that hashes the bytes itself, on
    another thread)."""
    key = os.fspath(tmp_dir)
    direct = _O_DIRECT and len(data) <= _CAPACITY and key not in _refused_in
    if direct and _buffer_lock.acquire(blocking=False):
        try:
            return _write_direct(data, key)
        except _Refused:
            _refused_in.add(key)
        finally:
            _buffer_lock.release()
    return _write_buffered(data, key)


class _Refused(Exception):
    """This filesystem refuses ``O_DIRECT`` (or its block size): write through the cache."""


@contextlib.contextmanager
def _new_copy(tmp_dir: str) -> Iterator[tuple[int, str]]:
    """A new private file in ``tmp_dir`` to write (its descriptor and name): fsynced (the
    data, its length, its blocks) and closed when the block ends, removed if it fails.
    An ``OSError`` becomes ``StorageError``; ``_Refused`` and anything else pass
    through."""
    with files.disk_errors("save the image"):
        fd, name = files.create_new(tmp_dir, files.TMP_PREFIX)
    try:
        yield fd, name
        os.fsync(fd)
        os.close(fd)
    except OSError as exc:
        _discard(fd, name)
        raise files.storage_error(exc, "save the image") from exc
    except BaseException:
        _discard(fd, name)
        raise


def _write_buffered(data: bytes, tmp_dir: str) -> Path:
    """What ``files.Incoming`` writes (a new private file, written whole, fsynced), through
    the page cache."""
    with _new_copy(tmp_dir) as (fd, name), memoryview(data) as view:
        done = 0
        while done < len(view):
            done += os.write(fd, view[done:])
    return Path(name)


def _write_direct(data: bytes, tmp_dir: str) -> Path:
    """The copy written with ``O_DIRECT``. ``_Refused`` where this filesystem refuses it
    (the caller then writes through the page cache); any other failure raises
    ``StorageError``. Either way nothing is left behind."""
    size = len(data)
    with _new_copy(tmp_dir) as (fd, name):
        try:
            # Set on the new file's descriptor: ``create_new``'s own flags stay as they are.
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | _O_DIRECT)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            raise _Refused from exc
        padded = -(-size // _ALIGN) * _ALIGN
        buf = _aligned_buffer()
        buf[:size] = data
        buf[size:padded] = bytes(padded - size)  # the last block's tail: zeros, cut below
        with memoryview(buf) as whole, whole[:padded] as view:
            done = 0
            try:
                while done < padded:
                    written = os.pwrite(fd, view[done:], done)
                    if written <= 0:
                        raise OSError(errno.EIO, "the disk took nothing")
                    done += written
            except OSError as exc:
                if exc.errno != errno.EINVAL:  # EINVAL: a block size the map does not fit
                    raise
                raise _Refused from exc
        os.ftruncate(fd, size)
    return Path(name)


def _aligned_buffer() -> mmap.mmap:
    """This process's buffer, mapped once (its pages are only touched as files fill it)."""
    global _buffer
    if _buffer is None:
        _buffer = mmap.mmap(-1, _CAPACITY)
    return _buffer


def _discard(fd: int, name: str) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
