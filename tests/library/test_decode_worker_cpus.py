"""Decode workers use the processors their library process may use when they start, not
the ones the process-wide fork server had when it started: a process once pinned to one
core (a benchmark's one-core run, ``taskset`` for a while) must not keep every later
adoption and import on that core."""

from __future__ import annotations

import os

import pytest

from imageshelf.app.library.decode_workers import WorkerPool
from tests.library.test_worker_processes import in_each_worker

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a system with processor affinity and two processors",
)


def _worker_cpus(pool: WorkerPool) -> set[int]:
    # Asked of each worker: the question is where its processes run, not what they do.
    each = in_each_worker(pool, os.sched_getaffinity, 0)
    assert len(each) == pool.workers and all(cpus == each[0] for cpus in each)
    return set(each[0])


def test_workers_follow_the_library_process_cpus_after_a_pinned_start() -> None:
    everything = os.sched_getaffinity(0)
    one = {min(everything)}
    os.sched_setaffinity(0, one)
    try:
        # The fork server may start here, pinned; its workers are pinned too, as asked.
        with WorkerPool(1) as pool:
            assert _worker_cpus(pool) == one
    finally:
        os.sched_setaffinity(0, everything)
    with WorkerPool(2) as pool:
        assert _worker_cpus(pool) == everything
