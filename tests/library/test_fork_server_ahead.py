"""The decode workers' fork server started ahead (``decode_workers.start_ahead``, called by
the window once its services start): the first big import then forks its workers from
that server, already warm, instead of starting one on its own clock."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.library.test_adoption_workers import REPO

PROGRAM = """
import os
from multiprocessing import forkserver
from pathlib import Path

from imageshelf.app.library import decode_workers as d

if __name__ == "__main__":
    assert forkserver._forkserver._forkserver_pid is None
    starting = d.start_ahead()
    assert starting is not None
    starting.join(60)
    assert not starting.is_alive()
    server = forkserver._forkserver._forkserver_pid
    with d.WorkerPool(2) as pool:
        runs = pool.run(os.getppid, [1, 2, 3, 4], lambda _i: (), lambda _i: Path(os.devnull))
        parents = {parent for _i, parent in runs}
    assert forkserver._forkserver._forkserver_pid == server
    print(server, *sorted(parents))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="no fork server there")
def test_the_first_pool_forks_from_the_server_started_ahead() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    server, *parents = out.stdout.split()
    assert parents and set(parents) == {server}  # every worker a child of that server
