"""The decoding half of adopting and importing many files, in worker processes.

Hashing, the reduced-scale decode that validates a photo and makes its thumbnail, and the
EXIF and XMP reads are nearly all of what adopting a camera JPEG costs (≈ 60 ms of CPU for
12 MP), and they need nothing of the library but a file's path. Threads cannot use both
cores for it: Pillow releases the GIL only inside the decode, and the rest (the resize,
the encode of the thumbnail, the EXIF walk, the pickling of results) queues on one lock
the window's thread needs too. So a few processes do it, forked by a fork server (never
from the library process itself, which has threads and an open database a fork would
copy mid-use; see ``_context``), and
hand back plain values; the library process keeps every database write, the thumbnail
cache and the events, so nothing about crash safety changes: a worker writes nothing
but, for an import, its copy in ``tmp/`` (cleared at the next open if a kill leaves it).

The decode budget is process-wide, so each worker has its own; the library process holds
its budget for every file in flight in the workers as well (``units_in_flight``), so
uploads the server decodes meanwhile and the workers' decodes share one bound."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from . import direct_copy, exif_read, files, format_heads, rules, xmp_read
from .decode_budget import DECODE_BUDGET
from .errors import LibraryError
from .exif_facts import NO_EXIF, ExifFacts
from .worker_processes import ProcessPool

# Pillow (``imaging``) is imported where a file is decoded, never at the top: the library
# modules that name ``Examined`` are on the window's launch path (performance.md, "6").
# The workers have it already: the fork server preloads it (``_context``).
if TYPE_CHECKING:
    from . import imaging

# Below this many files a run stays in its own thread: starting a process costs about
# as much as decoding ten photos, and the watcher's batches are a few files.
MIN_FILES_FOR_PROCESSES: Final = 12
# Files handed to the workers ahead of the one being committed: enough that no worker
# waits for the next, few enough that a stop or a kill wastes little.
_AHEAD_PER_WORKER: Final = 3
_ORPHAN_CHECK_SECONDS: Final = 0.5
# The workers' niceness: they use every core the machine has free, and yield it at once
# to the library process (the window's thread, the commits) and to whatever else the
# person is doing. On two cores three busy workers at the window's own priority kept its
# event loop from running for 75-95 ms at a time while a folder was adopted.
WORKER_NICENESS: Final = 10
# Adopted files up to this size are read once into memory (hashed and decoded from it).
_READ_WHOLE_BYTES: Final = 64 * 1024 * 1024
# glibc's malloc in a worker: blocks below this come from the heap, and up to the second
# figure of freed memory stays there for the next photo (see ``_keep_freed_memory``).
_HEAP_BLOCKS_BELOW: Final = 32 * 1024 * 1024
_HEAP_KEPT_FREE: Final = 64 * 1024 * 1024
_M_TRIM_THRESHOLD: Final = -1
_M_MMAP_THRESHOLD: Final = -3


@dataclass(frozen=True, slots=True)
class Examined:
    """One file hashed, decoded, thumbnailed and read for EXIF and XMP by a worker.
    ``info`` is ``None`` when only the hash was wanted (see ``examine_in_place``)."""

    size: int
    mtime_ns: int
    sha256: str
    info: imaging.ImageInfo | None
    described: xmp_read.FileDescription = xmp_read.NOTHING
    exif: ExifFacts = NO_EXIF
    tmp: Path | None = None  # an import's copy in the library's tmp/


@dataclass(frozen=True, slots=True)
class Refused:
    """A file that is not an image the library accepts (``code``: the ``LibraryError``
    code) or that could not be read (``unreadable``)."""

    code: str
    message: str
    unreadable: bool = False


# --- in the worker processes --------------------------------------------------------------

_hash_only: frozenset[str] = frozenset()


def _start_worker(hash_only: frozenset[str], library_pid: int, cpus: set[int] | None) -> None:
    """``library_pid``: the library process's pid, given rather than read here (a worker
    is forked by the fork server, and may start after a kill). ``cpus``: the processors
    the library process may use now. The fork server keeps the ones it had when it
    started, once per process: a process that was pinned to one core then (``taskset``,
    a benchmark's one-core run) would otherwise keep every later worker on that core."""
    global _hash_only
    _hash_only = hash_only
    from . import imaging  # noqa: F401  # (preloaded by a fork server, not by ``spawn``)

    _keep_freed_memory()
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no os.nice
        os.nice(WORKER_NICENESS)
    if cpus is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cpus)
    args = (os.getppid(), library_pid)
    threading.Thread(target=_end_with, args=args, daemon=True, name="orphan").start()


def _keep_freed_memory() -> None:
    """A worker handles one photo after another, each a few same-sized buffers (the file
    read whole, 3-10 MB; the decoder's input). ``decode_budget`` makes glibc map every block
    over 1 MB afresh and unmap it when freed (right for the library process, whose RSS it
    bounds), so here each photo's buffers were new pages: ≈ 1,150 page faults, 3-4 ms of
    a 12 MP photo's ≈ 50 ms of CPU, which the floor's bare pipeline (glibc's defaults)
    does not pay. Kept on the heap they are reused: ≈ 110 faults, a few MB more RSS in
    a process that ends with its run. Linux with glibc; elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _HEAP_BLOCKS_BELOW)
        libc.mallopt(_M_TRIM_THRESHOLD, _HEAP_KEPT_FREE)
    except (OSError, AttributeError):
        pass


def _end_with(parent: int, library_pid: int) -> None:
    """A library process killed (-9, a crash) cannot stop its workers, and nothing else
    would: they would wait for work forever. Each looks now and then whether the library
    process is still there, and whether it was re-parented (its fork server ended with
    the library), and ends with it."""
    while os.getppid() == parent:
        try:
            os.kill(library_pid, 0)
        except ProcessLookupError:
            break
        except PermissionError:
            pass  # there, as another user's: the pid was reused, still "alive" enough
        time.sleep(_ORPHAN_CHECK_SECONDS)
    os._exit(0)


def examine_in_place(path: str) -> Examined | Refused:
    """A file adopted where it lies. Read once where it is not huge: the bytes are hashed
    and decoded from memory. A file whose hash is one of the run's ``hash_only`` set (the
    content of a known image whose file went missing: a move) is not decoded."""
    p = Path(path)
    try:
        st = p.stat()
        if st.st_size <= _READ_WHOLE_BYTES:
            data = p.read_bytes()
            size, sha = len(data), hashlib.sha256(data).hexdigest()
        else:
            data = None
            size, sha = files.hash_file(p)
        if sha in _hash_only:
            return Examined(size, st.st_mtime_ns, sha, None)
        from . import imaging

        info = imaging.inspect(io.BytesIO(data)) if data is not None else imaging.inspect_path(p)
        # From the bytes read (the file is not opened again) where it was read whole.
        source = io.BytesIO(data) if data is not None else p
        described, exif = exif_read.texts_and_facts(source, info.format.content_type)
    except LibraryError as exc:
        return Refused(exc.code, exc.message)
    except OSError as exc:
        return Refused("unreadable", str(exc), unreadable=True)
    return Examined(size, st.st_mtime_ns, sha, info, described, exif)


def examine_copy(path: str, tmp_dir: str) -> Examined | Refused:
    """A file imported: read (at most the upload limit), copied into ``tmp_dir`` and
    fsynced by a thread while this one decodes the same bytes, so the disk's wait and
    the decode overlap instead of adding up. The copy is what ``commit`` places; it is
    removed here on any refusal, and by the caller if it does not commit it. The copy
    goes past the page cache where the filesystem allows (``direct_copy``): nothing reads
    it back meanwhile, the EXIF and XMP are read from the bytes in memory."""
    try:
        with open(path, "rb") as src:
            data = src.read(rules.MAX_UPLOAD_BYTES + 1)
    except OSError as exc:
        return Refused("unreadable", f"Could not read the file: {exc}.", unreadable=True)
    if len(data) > rules.MAX_UPLOAD_BYTES:
        return Refused("too_large", rules.TOO_LARGE_MESSAGE)
    if not data:
        return Refused("malformed_image", "The file is empty.")
    saved: list[_Saved] = []
    writer = threading.Thread(target=_save_copy, args=(data, Path(tmp_dir), saved))
    writer.start()
    from . import imaging

    try:
        info = imaging.inspect(io.BytesIO(data))
    except LibraryError as exc:
        refused: Refused | None = Refused(exc.code, exc.message)
    else:
        refused = None
    writer.join()
    outcome = saved[0]
    if isinstance(outcome, BaseException):
        if isinstance(outcome, LibraryError):
            return Refused(outcome.code, outcome.message)
        return Refused("unreadable", f"Could not save the copy: {outcome}.", unreadable=True)
    tmp, size, sha = outcome
    if refused is not None:
        tmp.unlink(missing_ok=True)
        return refused
    try:
        described, exif = exif_read.texts_and_facts(io.BytesIO(data), info.format.content_type)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Examined(size, 0, sha, info, described, exif, tmp)


_Saved = tuple[Path, int, str] | BaseException


def _save_copy(data: bytes, tmp_dir: Path, out: list[_Saved]) -> None:
    try:
        out.append(direct_copy.write_copy(data, tmp_dir))  # fsynced, or nothing left
    except BaseException as exc:
        out.append(exc)


# --- in the library process ---------------------------------------------------------------


def worker_count() -> int:
    cpus = _cpus()
    return max(1, len(cpus)) if cpus is not None else 2


def units_in_flight(path: Path) -> int:
    """What a worker's decode of ``path`` will hold, in the budget's units, from its
    headers alone (a reduced-scale JPEG holds the reduced pixels); 1 where the headers
    cannot be read or say too many pixels (the worker refuses the file at once). A
    plain JPEG's size is read from its frame header (``format_heads``): a camera
    photo's EXIF parsed by ``Image.open`` was ≈ 0.9 ms of the library process's CPU a
    photo, beside ≈ 45 ms of the worker's."""
    try:
        with open(path, "rb") as fp:
            size = format_heads.jpeg_frame_size(fp)
            if size is not None:
                return _reduced_jpeg_units(*size)
            fp.seek(0)
            from PIL import Image

            from . import imaging

            with imaging.pillow_warnings(), Image.open(fp, formats=rules.PILLOW_FORMATS) as img:
                full = img.width * img.height
                if img.format in ("JPEG", "MPO"):
                    img.draft("RGB", rules.THUMBNAIL_BOX)
                    return max(1, img.width * img.height)
                # Other formats hold decoder canvases and converted copies: the worst case.
                return max(1, 3 * full)
    except Exception:
        return 1


def _reduced_jpeg_units(width: int, height: int) -> int:
    """What ``Image.open`` then ``draft("RGB", THUMBNAIL_BOX)`` would say of a JPEG of
    this size: the pixels of its smallest DCT scale (1/8, 1/4, 1/2, 1) still covering
    the box, as Pillow picks it; 1 past the pixel limit, where Pillow's bomb check
    refuses the file at once (as ``Image.open`` raised here before)."""
    if width * height > rules.MAX_PIXELS:
        return 1
    box_w, box_h = rules.THUMBNAIL_BOX
    fits = min(width // box_w, height // box_h)
    scale = next(s for s in (8, 4, 2, 1) if fits >= s or s == 1)
    return max(1, -(-width // scale) * -(-height // scale))


def _cpus() -> set[int] | None:
    return os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None


# What the fork server imports once for all its workers: this module, Pillow (``imaging``,
# which the library process imports only when it decodes) and ``fork_server`` (its workers
# do not run the program's main module again).
FORK_SERVER_PRELOAD: Final = (__name__, f"{__package__}.imaging", f"{__package__}.fork_server")


def _context() -> multiprocessing.context.BaseContext:
    """A fork server where there is one (Linux, macOS): started once per library process,
    from a fresh interpreter that has imported this module (and Pillow) once, it forks
    each run's workers already warm: half a second of imports per worker saved, which is
    1-2 % of adopting 500 photos. Elsewhere, ``spawn``."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(FORK_SERVER_PRELOAD))
    return ctx


def start_ahead() -> threading.Thread | None:
    """Starts the workers' fork server now, on a thread (the caller goes on at once), so
    that the first big import or adoption does not wait for it: its interpreter and the
    imports of this module and Pillow, ≈ 0.15-0.4 s, before the first photo decodes.
    The window calls it once its services start after the first paint; a process that
    never imports many files (the server alone, the command line) never does. Nothing
    where there is no fork server (``spawn`` starts each worker afresh). The thread that
    starts it is returned (``None`` then)."""
    ctx = _context()
    if ctx.get_start_method() != "forkserver":
        return None
    from multiprocessing import forkserver

    starting = threading.Thread(target=forkserver.ensure_running, name="fork-server", daemon=True)
    starting.start()
    return starting


class WorkerPool:
    """``with WorkerPool(n) as pool: for item, result in pool.run(fn, items, ...)``:
    results in the order of ``items``, a bounded number ahead, each holding the library
    process's decode budget while it is in a worker. The workers are processes of our
    own (``worker_processes``), read by the calling thread: one run at a time, from one
    thread. A worker that ends without answering stops the run with ``WorkerDied`` (a
    ``BrokenProcessPool``)."""

    def __init__(self, workers: int | None = None, hash_only: frozenset[str] = frozenset()):
        self.workers = workers or worker_count()
        self._pool = ProcessPool(
            self.workers, _context(), _start_worker, (hash_only, os.getpid(), _cpus())
        )

    @property
    def pids(self) -> list[int]:
        return self._pool.pids

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        # Work not started is dropped; a file being decoded finishes (a second at most).
        self._pool.close()

    def run(
        self,
        fn: Callable[..., Examined | Refused],
        items: list[Any],
        args_of: Callable[[Any], tuple[Any, ...]],
        path_of: Callable[[Any], Path],
        stop: Callable[[], bool] = lambda: False,
        unused: Callable[[Examined | Refused], None] = lambda _result: None,
    ) -> Iterator[tuple[Any, Examined | Refused]]:
        """``unused``: called with each result made but not handed out (a stop, or the
        caller leaving the loop), so what it left behind (an import's copy) goes."""
        return self._pool.run(
            fn,
            items,
            args_of,
            lambda item: DECODE_BUDGET.hold(units_in_flight(path_of(item))),
            _AHEAD_PER_WORKER,
            stop,
            unused,
        )
