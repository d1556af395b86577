"""Two processes on one team library: what one commits reaches the other's events; one
killed (-9) in the middle of writing loses nothing it acknowledged, leaves no row
without its file, and holds no lock the other then waits on."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from imageshelf.app.library import Event, EventKind, Library
from tests.conftest import image_bytes
from tests.pg_server import folder_storage

REPO = Path(__file__).resolve().parents[2]


def _worker(url: str, root: Path, count: int) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.team.team_worker", url, str(root), str(count)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_uploads_in_another_process_reach_this_ones_events(
    pg_database: str, tmp_path: Path
) -> None:
    root = tmp_path / "team"
    lib = Library.open_team(pg_database, folder_storage(root))
    seen: dict[str, Event] = {}
    cond = threading.Condition()

    def heard(event: Event) -> None:
        with cond:
            if event.kind == EventKind.ADDED and event.image_id:
                seen[event.image_id] = event
            cond.notify_all()

    lib.subscribe(heard)
    try:
        worker = _worker(pg_database, root, 3)
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        ids = out.split()[1:]
        assert len(ids) == 3
        with cond:
            assert cond.wait_for(lambda: all(i in seen for i in ids), 10)
        assert all(seen[i].source == "team" and seen[i].image is not None for i in ids)
        assert {r.id for r in lib.list_images(folder="worker").items} == set(ids)
    finally:
        lib.close()


def test_a_killed_writer_loses_nothing_acknowledged_and_blocks_no_one(
    pg_database: str, tmp_path: Path
) -> None:
    root = tmp_path / "team"
    worker = _worker(pg_database, root, 0)
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "open"
    acknowledged = [worker.stdout.readline().strip() for _ in range(5)]
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(30)
    acknowledged += [line.strip() for line in worker.stdout.read().split()]
    worker.stdout.close()
    with Library.open_team(pg_database, folder_storage(root)) as lib:
        # Its write lock went with its connection: this write does not wait on it.
        lib.add(io.BytesIO(image_bytes("PNG")), "after.png")
        rows = lib.list_images(folder="worker", page_size=100).items
        listed = {r.id for r in rows}
        assert set(acknowledged) <= listed
        for rec in rows:  # no row without its file
            assert (root / "worker" / rec.filename).is_file()
