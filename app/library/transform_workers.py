"""Transform work in worker processes, one per core, shared by the whole process.

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
from .transform_render import render
from .transform_spec import TransformSpec

NICENESS: Final = 10
# One result takes well under a second; a worker stuck this long on one (a pathological
# file) is killed with its pool, and the request answered 503.
WORK_TIMEOUT_S: Final = 30.0
# Workers are replaced now and then, so memory one large image fragmented is given back.
TASKS_PER_WORKER: Final = 500

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _start_worker() -> None:
    """Runs in each worker as it starts: background priority, and an exit as soon as the
    server process is gone (killed too), so no worker outlives it."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICENESS)  # where SCHED_IDLE is missing (and harmless under it)
    with contextlib.suppress(OSError, AttributeError):
        # Lowering one's own policy needs no privilege; the threads started below inherit it.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    parent = multiprocessing.parent_process()
    if parent is not None:

        def exit_with_parent() -> None:
            multiprocessing.connection.wait([parent.sentinel])
            os._exit(0)

        threading.Thread(target=exit_with_parent, name="exit-with-server", daemon=True).start()


def workers() -> int:
    return max(1, os.cpu_count() or 1)


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # spawn: the server's process has threads, which fork would copy mid-lock.
            _pool = ProcessPoolExecutor(
                workers(),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
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
    for process in list(getattr(pool, "_processes", {}).values()):
        with contextlib.suppress(OSError):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _timed_render(path: Path, spec: TransformSpec) -> tuple[bytes, float]:
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
