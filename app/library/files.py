"""Crash-safe file operations: stream to a temporary file while hashing and counting,
fsync, and place into the library without ever overwriting an existing file."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import random
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

from .errors import InvalidFolder, StorageError, TooLarge
from .rules import MAX_UPLOAD_BYTES, TOO_LARGE_MESSAGE

CHUNK = 1024 * 1024
TMP_PREFIX = "incoming-"
# What ``write_atomic`` names its temporaries (``derived.TMP_PREFIX`` says the same).
ATOMIC_PREFIX = ".tmp-"
# mkstemp's flags: O_BINARY where the C library would otherwise translate line ends.
_NEW_FILE_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


# Where temporary names come from: one generator a process, seeded from the system's
# randomness, as ``tempfile``'s own names are. ``secrets`` asked the kernel (getrandom)
# for every name, a system call that gives up the interpreter lock: with several
# uploads at once each such call costs a thread switch (docs/performance.md, 3). The
# names need not be secret: ``O_EXCL | O_NOFOLLOW`` never opens a file someone made.
_names: tuple[int, random.Random] | None = None


def _random_name_bits() -> int:
    global _names
    names = _names
    if names is None or names[0] != os.getpid():  # a forked child draws its own
        names = _names = (os.getpid(), random.Random())
    return names[1].getrandbits(64)


def create_new(directory: str, prefix: str) -> tuple[int, str]:
    """A new file only its owner can read or write (``0o600``, as ``tempfile.mkstemp``
    makes them) under a random name in ``directory``, opened for writing: ``mkstemp``
    without its per-call Python (every upload makes two). ``O_EXCL``: a name someone
    else made is never opened."""
    for _ in range(100):
        name = os.path.join(directory, f"{prefix}{_random_name_bits():016x}")
        try:
            return os.open(name, _NEW_FILE_FLAGS, 0o600), name
        except FileExistsError:
            continue  # 64 random bits taken: try another
    raise FileExistsError(errno.EEXIST, "No usable temporary name found", directory)


def os_error_reason(exc: OSError, read_only: str = "the library is on a read-only disk") -> str:
    """Why a write failed, in words a person can act on."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return "the disk is full"
    if exc.errno == errno.EROFS:
        return read_only
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission was denied"
    return exc.strerror or str(exc)


def storage_error(exc: OSError, doing: str) -> StorageError:
    """Turns an OSError into the message a person can act on."""
    return StorageError(f"Could not {doing}: {os_error_reason(exc)}.")


@contextlib.contextmanager
def disk_errors(doing: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise storage_error(exc, doing) from exc


def fsync_dir(path: Path) -> None:
    """Makes a rename or link inside ``path`` durable (POSIX); a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Makes a file's written bytes durable, by its name (any descriptor of it will do)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Where ``sync_later`` runs: a few threads, made again in a forked child (whose copy of
# the pool would name threads that do not exist there).
_syncer: tuple[int, ThreadPoolExecutor] | None = None
_syncer_guard = threading.Lock()


def sync_later(path: Path) -> Future[None]:
    """``fsync_file(path)`` on another thread; the caller works on meanwhile (an upload's
    decode: both release the interpreter lock, so the disk's wait overlaps the work) and
    takes ``result()`` before anything may rely on the bytes being durable."""
    global _syncer
    with _syncer_guard:
        if _syncer is None or _syncer[0] != os.getpid():
            _syncer = (os.getpid(), ThreadPoolExecutor(8, thread_name_prefix="fsync"))
        pool = _syncer[1]
    return pool.submit(fsync_file, path)


class Incoming:
    """A new file in ``tmp_dir`` that bytes are written into as they arrive, hashed and
    counted on the way, refusing the byte past ``limit`` before it is written: the sink
    an upload is streamed into (by ``stream_to_tmp``, or by the server's multipart parser
    directly, so the body is never spooled and copied a second time).

    ``finish()`` fsyncs it and returns (path, size, sha256 hex); ``discard()`` removes it.
    Either way the descriptor is closed; a failed ``write`` discards at once.
    ``finish(durable=False)`` leaves the fsync to the caller (``intake.prepare_file``
    with ``synced=False`` runs it while it decodes)."""

    def __init__(self, tmp_dir: Path, limit: int) -> None:
        with disk_errors("start saving the upload"):
            fd, name = create_new(os.fspath(tmp_dir), TMP_PREFIX)
        self.path = Path(name)
        self.limit = limit
        self.size = 0
        self._digest = hashlib.sha256()
        self._out = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> int:
        size = self.size + len(data)
        if size > self.limit:
            self.discard()
            raise TooLarge(
                TOO_LARGE_MESSAGE
                if self.limit == MAX_UPLOAD_BYTES
                else f"The file is larger than {self.limit:,} bytes, the most accepted here."
            )
        try:
            self._out.write(data)
        except OSError as exc:
            self.discard()
            raise storage_error(exc, "save the image") from exc
        self._digest.update(data)
        self.size = size
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """werkzeug rewinds a finished part; nothing here reads it back."""
        return offset

    def finish(self, durable: bool = True) -> tuple[Path, int, str]:
        try:
            self._out.flush()
            if durable:
                os.fsync(self._out.fileno())
            self._out.close()
        except OSError as exc:
            self.discard()
            raise storage_error(exc, "save the image") from exc
        return self.path, self.size, self._digest.hexdigest()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._out.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Closing without ``finish()`` keeps nothing (werkzeug closes what it made)."""
        if not self._out.closed:
            self.discard()


def stream_to_tmp(stream: IO[bytes], tmp_dir: Path, limit: int) -> tuple[Path, int, str]:
    """Copies ``stream`` into a new file in ``tmp_dir``, hashing as it goes, refusing more
    than ``limit`` bytes without reading further. Returns (path, size, sha256 hex); the file
    is fsynced. On any failure nothing is left behind."""
    incoming = Incoming(tmp_dir, limit)
    try:
        while chunk := stream.read(CHUNK):
            incoming.write(chunk)
    except OSError as exc:
        incoming.discard()
        raise storage_error(exc, "save the image") from exc
    except BaseException:
        incoming.discard()
        raise
    return incoming.finish()


def hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fp:
        while chunk := fp.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def place(src: Path, dest_dir: Path, names: Iterable[str]) -> str:
    """Gives ``src`` the first free name in ``dest_dir`` and returns that name.

    A hard link never overwrites: if another process took the name a moment ago, the
    next candidate is tried. ``src`` is removed only after the new name exists.
    """
    for name in names:
        dest = dest_dir / name
        try:
            os.link(src, dest)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            # Filesystems without hard links: check, then rename.
            if dest.exists():
                continue
            os.replace(src, dest)
            fsync_dir(dest_dir)
            return name
        os.unlink(src)
        fsync_dir(dest_dir)
        return name
    raise AssertionError("names ran out")  # the generator is infinite


def link_free(src: Path, dest_dir: Path, names: Iterable[str]) -> str:
    """A second name for ``src``: the first free one of ``names`` in ``dest_dir`` (a hard
    link never overwrites). ``src`` stays and nothing is fsynced: for a batch that
    fsyncs each folder once and removes its sources after its commit
    (``intake_batch``). ``OSError`` where the filesystem has no hard links."""
    for name in names:
        try:
            os.link(src, dest_dir / name)
        except FileExistsError:
            continue
        return name
    raise AssertionError("names ran out")  # the generator is infinite


def through_link(root: Path, relpath: str | None) -> str | None:
    """The first part of ``relpath`` (outermost first) that is a symbolic link, else
    ``None``. A link can point anywhere: writing through one would change files outside
    the library, so every write checks its folders with this (``check_contained``)."""
    current = root
    done: list[str] = []
    for part in (relpath or "").split("/"):
        if not part:
            continue
        current = current / part
        done.append(part)
        if current.is_symlink():
            return "/".join(done)
    return None


def check_contained(root: Path, folder: str | None) -> None:
    """Refuses a folder reached through a symbolic link (see ``through_link``)."""
    link = through_link(root, folder)
    if link is not None:
        raise InvalidFolder(
            f"{link!r} in the library folder is a link to another place; the library "
            "does not change files through links. Choose another folder."
        )


def make_folder(root: Path, folder: str) -> list[Path]:
    """Creates ``root/folder`` and returns the directories it had to create, outermost
    first, so a failed write can remove exactly those. A part that is a symbolic link
    is refused (``InvalidFolder``): the write would land outside the library."""
    check_contained(root, folder)
    created: list[Path] = []
    current = root
    for part in folder.split("/"):
        current = current / part
        if not current.is_dir():
            if current.exists() or current.is_symlink():
                raise InvalidFolder(
                    f"{current.relative_to(root).as_posix()!r} is a file in the library "
                    "folder, not a folder; choose another folder name."
                )
            current.mkdir()
            created.append(current)
    if created:
        fsync_dir(created[0].parent)
    return created


def remove_empty_folders(root: Path, folder: str) -> list[str]:
    """Removes ``root/folder`` and its parents while they are empty; returns the relative
    folders removed. A folder holding anything at all (even files we don't know) stays."""
    removed: list[str] = []
    parts = folder.split("/") if folder else []
    while parts:
        path = root.joinpath(*parts)
        try:
            path.rmdir()
        except OSError:
            break
        removed.append("/".join(parts))
        parts.pop()
    return removed


def write_into_cache(path: Path, data: bytes) -> None:
    """``write_atomic`` into a cache folder (thumbnails, transform results) that may be
    deleted at any time, also while this writes: the folder is made again, once (and
    made at all only when the write finds it missing: it is there nearly always)."""
    for attempt in (1, 2, 3):
        try:
            write_atomic(path, data)
            return
        except FileNotFoundError:
            if attempt == 3:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Writes a whole file so that readers see either nothing or all of it."""
    fd, name = create_new(os.path.dirname(path), ATOMIC_PREFIX)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
