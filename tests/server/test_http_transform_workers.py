"""Transform workers are processes: they leave with the server however it ends (kill -9
too), and a worker that dies is replaced without the request noticing."""

from __future__ import annotations

import io
import os
import re
import select
import signal
from pathlib import Path

import pytest
import requests

from imageshelf.app.library import Library, transform_workers
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.server.serve_process import ServeProcess

TOKEN = "worker-test-token"


def _children(pid: int) -> set[int]:
    """Every process ``pid`` started, from any of its threads: those whose parent process
    is ``pid``. (Not ``/proc/PID/task/*/children``: a worker is the child of the thread
    that started it, which may end while those files are read, and its children move to
    another thread the loop already passed — an empty set, once, under load.)"""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The 4th field after the command name (which may hold spaces and parentheses).
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        if parent == pid:
            found.add(int(entry.name))
    return found


def _workers(pid: int) -> set[int]:
    """The transform workers among ``pid``'s children (not multiprocessing's resource
    tracker, which ``spawn`` starts beside them)."""
    found = set()
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            found.add(child)
    return found


def _allowed_cpus(pid: int) -> dict[str, str]:
    """Each thread's ``Cpus_allowed_list`` (thread id → e.g. ``"1"`` or ``"0-1"``)."""
    allowed = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:
            continue  # a thread that ended meanwhile
        allowed[task.name] = re.search(r"Cpus_allowed_list:\s*(\S+)", status).group(1)  # type: ignore[union-attr]
    return allowed


def _cpu_list(cpus: set[int]) -> str:
    """The kernel's way of writing a CPU set (``0-3,6``)."""
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and cpu == runs[-1][-1] + 1:
            runs[-1].append(cpu)
        else:
            runs.append([cpu])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _serve_and_transform(
    processes: list[ServeProcess], library: Path, env: dict[str, str] | None = None
) -> tuple[ServeProcess, set[int]]:
    """``imageshelf serve`` that made one transform: (the server, its workers)."""
    serve = ServeProcess(library, "--port", "0", env={"IMAGESHELF_API_TOKEN": TOKEN, **(env or {})})
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
    return serve, _workers(serve.proc.pid)


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
    serve, workers = _serve_and_transform(processes, tmp_path / "lib")
    assert serve.proc is not None
    assert workers, "the transform ran in a worker process"
    everything = _children(serve.proc.pid)  # the workers and multiprocessing's tracker
    serve.proc.send_signal(signal.SIGKILL)
    serve.wait(60)
    assert _wait_exited(everything, timeout=30) == set()


MANY_CPUS = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="one CPU: the workers share it with the server"
)


@MANY_CPUS
def test_workers_leave_one_cpu_to_the_server(processes: list[ServeProcess], tmp_path: Path) -> None:
    """By default every thread of every worker may run on all CPUs but the lowest (benchmarks
    7c: a request does not land on a core a transform fills); the server keeps them all."""
    usable = os.sched_getaffinity(0)
    serve, workers = _serve_and_transform(processes, tmp_path / "lib")
    assert serve.proc is not None
    assert workers
    expected = _cpu_list(usable - {min(usable)})
    for worker in workers:
        assert set(_allowed_cpus(worker).values()) == {expected}, worker
    assert set(_allowed_cpus(serve.proc.pid).values()) == {_cpu_list(usable)}


@MANY_CPUS
@pytest.mark.parametrize("setting", ["all", "99"])
def test_a_person_may_give_the_workers_every_cpu(
    processes: list[ServeProcess], tmp_path: Path, setting: str
) -> None:
    usable = os.sched_getaffinity(0)
    _, workers = _serve_and_transform(
        processes, tmp_path / "lib", {transform_workers.CPUS_ENV: setting}
    )
    assert workers
    for worker in workers:
        assert set(_allowed_cpus(worker).values()) == {_cpu_list(usable)}, worker


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


@pytest.mark.parametrize(
    ("setting", "kept_on"),
    [("", "all but the lowest"), ("1", "the highest"), ("all", "every"), ("0", "the highest")],
)
def test_one_worker_per_cpu_it_may_use(
    monkeypatch: pytest.MonkeyPatch, setting: str, kept_on: str
) -> None:
    """How many workers (and so transform slots) there are follows the CPUs they may use;
    on one CPU they share it, whatever the setting."""
    usable = sorted(os.sched_getaffinity(0))
    monkeypatch.setenv(transform_workers.CPUS_ENV, setting)
    cpus = transform_workers.worker_cpus()
    if len(usable) == 1 or kept_on == "every":
        assert cpus is None
        assert transform_workers.workers() == len(usable)
        return
    expected = set(usable[1:]) if kept_on == "all but the lowest" else {usable[-1]}
    assert cpus == expected
    assert transform_workers.workers() == len(expected)
