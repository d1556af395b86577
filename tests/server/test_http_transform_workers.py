"""Transform workers are processes: they leave with the server however it ends (kill -9
too), and a worker that dies is replaced without the request noticing."""

from __future__ import annotations

import io
import os
import select
import signal
from pathlib import Path

import requests

from imageshelf.app.library import Library, transform_workers
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.server.serve_process import ServeProcess

TOKEN = "worker-test-token"


def _children(pid: int) -> set[int]:
    """Every process ``pid`` started, from any of its threads."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _wait_exited(pids: set[int], timeout: float) -> set[int]:
    """Waits for the processes to end (pidfds become readable); returns those still alive."""
    fds = {}
    for pid in pids:
        try:
            fds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            continue  # already gone
    alive = set(fds.values())
    try:
        while alive:
            waiting = [fd for fd, pid in fds.items() if pid in alive]
            ready, _, _ = select.select(waiting, [], [], timeout)
            if not ready:
                break
            alive -= {fds[fd] for fd in ready}
    finally:
        for fd in fds:
            os.close(fd)
    return alive


def test_workers_leave_with_a_killed_server(processes: list[ServeProcess], tmp_path: Path) -> None:
    serve = ServeProcess(tmp_path / "lib", "--port", "0", env={"IMAGESHELF_API_TOKEN": TOKEN})
    processes.append(serve)
    serve.start()
    assert serve.proc is not None
    made = requests.post(
        f"{serve.base_url}/v3/images",
        headers={"Authorization": f"Bearer {TOKEN}"},
        files={"file": ("w.jpg", image_bytes("JPEG", (640, 480)))},
        timeout=30,
    ).json()
    reply = requests.get(f"{serve.base_url}/i/{made['id']}.webp?w=100", timeout=60)
    assert reply.status_code == 200
    workers = _children(serve.proc.pid)
    assert workers, "the transform ran in a worker process"
    serve.proc.send_signal(signal.SIGKILL)
    serve.wait(60)
    assert _wait_exited(workers, timeout=30) == set()


def test_a_dead_worker_is_replaced(live_server: BackgroundServer, library: Library) -> None:
    record = library.add(io.BytesIO(image_bytes("JPEG", (640, 480))), "r.jpg")
    base = f"{live_server.base_url}/i/{record.id}.webp"
    assert requests.get(f"{base}?w=100", timeout=60).status_code == 200
    pool = transform_workers._get_pool()
    victims = {p.pid for p in pool._processes.values()}  # type: ignore[attr-defined]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    assert _wait_exited(victims, timeout=30) == set()
    again = requests.get(f"{base}?w=101", timeout=60)
    assert again.status_code == 200, again.text
    assert library.transforms.computations == 2


def test_workers_run_as_background_work() -> None:
    """A request of the server takes a core from a worker at once (benchmarks 7c): each
    worker, and every thread in it, is SCHED_IDLE and niced — asked from inside the
    workers, so only after their start-up ran."""
    pool = transform_workers._get_pool()
    rounds = 4 * transform_workers.workers()
    policies = [pool.submit(os.sched_getscheduler, 0) for _ in range(rounds)]
    nices = [pool.submit(os.getpriority, os.PRIO_PROCESS, 0) for _ in range(rounds)]
    threads = [pool.submit(os.listdir, "/proc/self/task") for _ in range(rounds)]
    assert {f.result(timeout=60) for f in policies} == {os.SCHED_IDLE}
    assert min(f.result(timeout=60) for f in nices) >= transform_workers.NICENESS
    for tid in {t for f in threads for t in f.result(timeout=60)}:
        try:
            assert os.sched_getscheduler(int(tid)) == os.SCHED_IDLE, tid
        except ProcessLookupError:
            continue  # a worker replaced meanwhile
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the server itself is untouched
