"""Transform work in worker processes, shared by the whole process: one per CPU they may
use, by default every CPU but one (``worker_cpus``).

Why processes: Pillow's decoders and encoders give the interpreter lock back only part of
the time (a JPEG encode hardly at all), so transforms on threads held up every other
request of the server by 5-70 ms — originals, thumbnails, the API (the quiet client of
benchmarks/bench_transforms.py, 7c). In processes they share nothing with the server but
the cores, and they run as background work (Linux's ``SCHED_IDLE``, else nice 10): a
request of the server — an original, a thumbnail, the API — takes a core from a worker at
once, where nice 10 alone let a worker finish its time slice first (the quiet client's
p99 was 17x its idle figure with nice 10). The cost: on a machine kept fully busy by
other programs, transforms wait for a free moment (and past ``WORK_TIMEOUT_S`` are
answered 503). A crash on a hostile file kills a worker, not the server.

The decode budget stays in the server's process: the caller holds the pixels a decode
will need (``transform_render.decoded_pixels``) while a worker makes the result."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Final

from .errors import Busy
from .transform_spec import TransformSpec

NICENESS: Final = 10
# How many CPUs the workers may use, for a person to change (``imageshelf serve`` reads
# it from the environment): a number from 1 to the CPUs this process may run on, or
# ``all``. By default every CPU but one (see ``worker_cpus``).
CPUS_ENV: Final = "IMAGESHELF_TRANSFORM_CPUS"
# One result takes well under a second; a worker stuck this long on one (a pathological
# file) is killed with its pool, and the request answered 503.
WORK_TIMEOUT_S: Final = 30.0
# Workers are replaced now and then, so memory one large image fragmented is given back.
TASKS_PER_WORKER: Final = 500

log = logging.getLogger(__name__)

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _usable_cpus() -> list[int]:
    """The CPUs this process may run on (a container or ``taskset`` may allow fewer than
    the machine has), lowest first."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux: no affinity to read or set
        return list(range(os.cpu_count() or 1))


def worker_cpus() -> frozenset[int] | None:
    """The CPUs the workers are kept on, ``None`` for all of them (no affinity set).

    By default every usable CPU but the lowest, which is left to the server's own threads
    (and whatever else a person runs). A worker at background priority gives a core up
    at once, yet with workers on every core the quiet client of benchmarks 7c had its
    slowest requests wait tens of milliseconds for the server's threads to run (the
    request itself 0.4 ms; docs/performance.md, transforms, session 6), and its p99
    ratio about halved with one CPU kept free. On one CPU there is nothing to leave: the
    workers share it.
    ``CPUS_ENV`` says how many CPUs instead (the highest ones), or ``all``."""
    usable = _usable_cpus()
    wanted = os.environ.get(CPUS_ENV, "").strip().lower()
    if wanted == "all" or len(usable) < 2:
        count = len(usable)
    elif wanted:
        try:
            count = min(len(usable), max(1, int(wanted)))
        except ValueError:
            log.warning(
                "%s=%r is not a number of CPUs or 'all'; using the default", CPUS_ENV, wanted
            )
            count = len(usable) - 1
    else:
        count = len(usable) - 1
    if count >= len(usable):
        return None
    return frozenset(usable[-count:])


def _start_worker(cpus: frozenset[int] | None = None) -> None:
    """Runs in each worker as it starts: background priority, kept on ``cpus``, and an
    exit as soon as the server process is gone (killed too), so no worker outlives it."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICENESS)  # where SCHED_IDLE is missing (and harmless under it)
    with contextlib.suppress(OSError, AttributeError):
        # Lowering one's own policy needs no privilege; the threads started below inherit it.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    if cpus is not None:
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setaffinity(0, cpus)  # inherited by the threads started below too
    parent = multiprocessing.parent_process()
    if parent is not None:

        def exit_with_parent() -> None:
            multiprocessing.connection.wait([parent.sentinel])
            os._exit(0)

        threading.Thread(target=exit_with_parent, name="exit-with-server", daemon=True).start()
    # Pillow here, before the first task's clock starts, not in the parent: the window's
    # process imports this module at launch and renders nothing (performance.md, "6").
    from . import transform_render  # noqa: F401


def workers() -> int:
    """One worker per CPU the workers may use."""
    cpus = worker_cpus()
    return max(1, len(cpus) if cpus is not None else len(_usable_cpus()))


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # spawn: the server's process has threads, which fork would copy mid-lock.
            _pool = ProcessPoolExecutor(
                workers(),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(worker_cpus(),),
                max_tasks_per_child=TASKS_PER_WORKER,
            )
        return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    """Kills a pool whose worker hung or died; the next call starts a new one."""
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    # The executor has no way to stop one running task: its processes are killed.
    # (``_processes`` is None once the pool shut itself down, as a broken one does.)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _timed_render(path: Path, spec: TransformSpec) -> tuple[bytes, float]:
    from .transform_render import render  # loaded by ``_start_worker``

    started = time.perf_counter()
    return render(path, spec), time.perf_counter() - started


def run(path: Path, spec: TransformSpec) -> tuple[bytes, float]:
    """``render(path, spec)`` in a worker, and the seconds the worker spent on it (not
    counting a worker's start); its errors are raised here. A pool whose worker died (any
    worker: the pool breaks as a whole) is replaced and the work tried once more; ``Busy``
    when that fails too, or when a worker takes longer than ``WORK_TIMEOUT_S``."""
    for attempt in (1, 2):
        pool = _get_pool()
        try:
            future = pool.submit(_timed_render, path, spec)
            return future.result(timeout=WORK_TIMEOUT_S)
        except TimeoutError:
            _discard(pool)
            raise Busy("Making this image took too long; try again later.") from None
        except BrokenProcessPool:
            _discard(pool)
            if attempt == 2:
                raise Busy("The worker making this image stopped; try again shortly.") from None
    raise AssertionError("unreachable")


def shutdown() -> None:
    """Stops the workers (they are started again when needed)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
