"""Crash recovery on a team library (sql/owners.py): several processes are live at
once, so what one finds in flight is recovered only when the process that started it
is dead. A process killed (-9) half-way through a request's idempotency claim, a move,
a trash and a download job has them released, finished, finished and prepared by the
next process that opens; the same work of a live process is never touched, at open or
by the periodic check."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from imageshelf.app.library import Library
from imageshelf.app.library.idempotency import Outcome
from imageshelf.app.library.sql import owners, rows
from tests.conftest import image_bytes
from tests.pg_server import folder_storage
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
FP = "f" * 64
POST = "POST /v3/images"


def _halfway(
    url: str, root: Path, move_id: str, trash_id: str
) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.team.team_halfway", url, str(root), move_id, trash_id],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    said, _, job_id = proc.stdout.readline().strip().partition(" ")
    assert said == "halfway", said
    return proc, job_id


def _live_owners(lib: Library) -> set[int]:
    with lib.core.read() as conn:
        return owners.live(conn)


def _pending(lib: Library, image_id: str) -> str | None:
    with lib.core.read() as conn:
        return conn.execute(
            text("SELECT pending_path FROM images WHERE id = :id"), {"id": image_id}
        ).scalar()


def test_a_killed_process_steps_are_recovered_and_a_live_ones_are_not(
    pg_database: str, tmp_path: Path
) -> None:
    root = tmp_path / "team"
    live = Library.open_team(pg_database, folder_storage(root))
    try:
        add = live.add
        moving = add(io.BytesIO(image_bytes("JPEG", color=(1, 2, 3))), "moving.jpg", folder="a")
        trashing = add(io.BytesIO(image_bytes("PNG", color=(4, 5, 6))), "trashing.png", folder="a")
        mine = add(io.BytesIO(image_bytes("PNG", color=(7, 8, 9))), "mine.png", folder="b")
        # This (live) process's own work in flight: a claim, and a move linked, not committed.
        assert live.idempotency.claim("me", "live-key", POST, FP).outcome is Outcome.PROCEED
        with live.core.write() as conn:
            rows.set_pending(conn, mine.id, "c", mine.filename)
        live.core.storage.make_folder("c")
        assert live.core.storage.link(mine.relpath, f"c/{mine.filename}")

        worker, job_id = _halfway(pg_database, root, moving.id, trashing.id)
        try:
            # Alive: another process's periodic check leaves its steps alone.
            assert live.recover_dead_owners() == 0
            assert live.downloads.get(job_id).status == "PROCESSING"  # not taken over
            claim = live.idempotency.claim("worker", "dead-key", POST, FP)
            assert claim.outcome is Outcome.IN_PROGRESS
            assert _pending(live, moving.id) is not None
        finally:
            worker.kill()  # SIGKILL: no clean-up of any kind
            worker.wait(30)
            assert worker.returncode == -signal.SIGKILL
            for pipe in (worker.stdin, worker.stdout):
                assert pipe is not None
                pipe.close()
        # PostgreSQL ends the dead process's session (and drops its owner lock) when it
        # reads the closed socket, a moment after the kill: until then it counts as live.
        wait_for(lambda: _live_owners(live) == {live.core.owner.number}, "the worker's lock gone")

        with Library.open_team(pg_database, folder_storage(root)) as other:
            # The move was past its link with the old name gone: finished.
            moved = other.get(moving.id)
            assert (moved.folder, moved.filename) == ("moved", "moving.jpg")
            assert (root / "moved" / "moving.jpg").is_file()
            assert not (root / "a" / "moving.jpg").exists()
            assert _pending(other, moving.id) is None
            # The trash was past its rename: finished (in the trash, settled).
            assert other.trash.get(trashing.id).image.filename == "trashing.png"
            assert other.trash.path_of(trashing.id, "trashing.png").is_file()
            with other.core.read() as conn:
                left = conn.execute(text("SELECT count(*) FROM trash WHERE intent IS NOT NULL"))
                assert left.scalar() == 0
            # The dead request's claim is released: a retry runs.
            claim = other.idempotency.claim("worker", "dead-key", POST, FP)
            assert claim.outcome is Outcome.PROCEED
            # The job it was preparing is prepared here: its archive holds the image.
            job = other.downloads.wait(job_id, 60)
            assert (job.status, job.count) == ("READY", 1)
            with other.downloads.archive(job_id).stream() as stream:
                assert len(stream.read()) > moved.size
            # The live process's work is untouched, at open and by the periodic check.
            assert other.recover_dead_owners() == 0
            claim = other.idempotency.claim("me", "live-key", POST, FP)
            assert claim.outcome is Outcome.IN_PROGRESS
            assert _pending(other, mine.id) == "c\x1fmine.png\x1f" + str(live.core.owner.number)
            assert (root / "c" / mine.filename).is_file()
            assert (root / "b" / mine.filename).is_file()
    finally:
        live.close()


def test_a_closed_process_owns_nothing_and_its_number_is_free(
    pg_database: str, tmp_path: Path
) -> None:
    """Close releases the owner's lock at once (the next check sees it dead), and each
    open process has a number of its own."""
    root = tmp_path / "team"
    first = Library.open_team(pg_database, folder_storage(root))
    second = Library.open_team(pg_database, folder_storage(root))
    try:
        assert first.core.owner is not None and second.core.owner is not None
        number = first.core.owner.number
        assert number != second.core.owner.number
        assert first.idempotency.claim("p", "k", POST, FP).outcome is Outcome.PROCEED
        assert second.recover_dead_owners() == 0
        first.close()
        assert second.recover_dead_owners() == 1
        assert second.idempotency.claim("p", "k", POST, FP).outcome is Outcome.PROCEED
    finally:
        first.close()
        second.close()


def test_a_retry_of_a_dead_process_request_runs_at_once(pg_database: str, tmp_path: Path) -> None:
    """Between two recovery rounds, the retry of a request whose process died is not
    kept waiting (409 in progress) until the next one: it takes the claim over."""
    root = tmp_path / "team"
    first = Library.open_team(pg_database, folder_storage(root))
    second = Library.open_team(pg_database, folder_storage(root))
    try:
        assert first.idempotency.claim("p", "k", POST, FP).outcome is Outcome.PROCEED
        assert second.idempotency.claim("p", "k", POST, FP).outcome is Outcome.IN_PROGRESS
        other = second.idempotency.claim("p", "k", POST, "0" * 64)
        assert other.outcome is Outcome.REUSED  # other content: never taken over
        first.close()  # its lock goes, as with a kill
        assert second.idempotency.claim("p", "k", POST, FP).outcome is Outcome.PROCEED
        # Now the second's: a third process waits for it like any live request.
        with Library.open_team(pg_database, folder_storage(root)) as third:
            assert third.idempotency.claim("p", "k", POST, FP).outcome is Outcome.IN_PROGRESS
    finally:
        first.close()
        second.close()
