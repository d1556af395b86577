"""One writer process per library: an advisory lock on ``.imageshelf/lock``.

The kernel drops the lock when its process dies, so a lock left by a killed process is
simply taken over; the pid written inside only makes the refusal message useful."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .errors import LibraryLocked

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


class ProcessLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            # A read-only disk: an existing lock file can still be locked, read-only
            # (the library then opens read-only, see Library.open).
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            fd = os.open(self.path, os.O_RDONLY)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LibraryLocked(
                f"The library at {self.path.parent.parent} is already open in another "
                f"Imageshelf process (pid {holder}). Close that one first."
            ) from None
        try:  # who holds it, for the message above; a full disk may refuse it
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError:
            pass
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None
