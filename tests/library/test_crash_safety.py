"""A process killed with SIGKILL in the middle of adds, moves and deletes: after reopening,
every acknowledged write is there, byte-identical, and nothing is half-written."""

from __future__ import annotations

import io
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from imageshelf.app.library import Gone, Library
from tests.library.crash_worker import noise_png
from tests.library.helpers import library_files, sha256, tmp_leftovers

WORKER = Path(__file__).with_name("crash_worker.py")
REPO = Path(__file__).resolve().parents[2]
KILLS = 3

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def run_until_killed(library_path: Path, mode: str, seed: int, acks: int) -> list[list[str]]:
    """Starts a worker, lets it acknowledge ``acks`` writes (fewer if it finishes), kills it
    with SIGKILL a random moment later, and returns every line it printed."""
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(library_path), mode, str(seed)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[list[str]] = []
    try:
        assert proc.stdout is not None
        acknowledged = 0
        while acknowledged < acks:
            line = proc.stdout.readline()
            if not line:
                break
            words = line.split()
            lines.append(words)
            if words[0] in ("added", "moved", "deleted", "restored", "purged", "emptied"):
                acknowledged += 1
            if words[0] == "done":
                break
        # Somewhere inside the next write, not at a tidy boundary.
        time.sleep(random.Random(seed).uniform(0, 0.03))
    finally:
        proc.send_signal(signal.SIGKILL)
        # Read on through the same buffered stream (communicate() would read the raw pipe
        # and lose lines already buffered here).
        rest = proc.stdout.read() if proc.stdout else ""
        proc.wait(timeout=30)
        for pipe in (proc.stdin, proc.stdout):
            if pipe:
                pipe.close()
    assert proc.returncode == -signal.SIGKILL
    lines += [line.split() for line in rest.splitlines()]
    return lines


def assert_consistent(lib: Library) -> dict[str, tuple[str | None, str]]:
    """No row points at a missing or different file; no file lies in the folder that no
    row owns; tmp/ is empty. Returns {id: (folder, sha256)}."""
    with lib.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, folder, filename, sha256, size FROM images")).all()
    owned = set()
    state = {}
    for r in rows:
        folder = r.folder or None
        path = lib.path_of(folder, r.filename)
        data = path.read_bytes()  # raises if the row points at a missing file
        assert (len(data), sha256(data)) == (r.size, r.sha256), f"{path} is not what its row says"
        owned.add(str(path.relative_to(lib.root)))
        state[r.id] = (folder, r.sha256)
    files = [p for p in library_files(lib.root) if (lib.root / p).is_file()]
    assert sorted(files) == sorted(owned), "a file in the folder belongs to no image"
    assert tmp_leftovers(lib) == []
    return state


def populate(library_path: Path, n: int) -> dict[str, str]:
    rng = random.Random(7)
    with Library.open(library_path) as lib:
        records = [lib.add(io.BytesIO(noise_png(rng)), f"{i}.png") for i in range(n)]
    return {r.id: r.sha256 for r in records}


def test_killed_while_adding(library_path: Path) -> None:
    acknowledged: dict[str, str] = {}
    for round_ in range(KILLS):
        lines = run_until_killed(library_path, "add", seed=round_, acks=4 + round_ * 3)
        acknowledged |= {w[1]: w[2] for w in lines if w[0] == "added"}
        with Library.open(library_path) as lib:
            state = assert_consistent(lib)
            for image_id, digest in acknowledged.items():
                assert state[image_id][1] == digest
                assert lib.get(image_id).sha256 == digest
    assert len(acknowledged) >= sum(4 + r * 3 for r in range(KILLS))


def test_killed_while_moving(library_path: Path) -> None:
    images = populate(library_path, 8)
    where: dict[str, set[str | None]] = {image_id: {None} for image_id in images}
    for round_ in range(KILLS):
        lines = run_until_killed(library_path, "move", seed=100 + round_, acks=5 + round_ * 4)
        # Each image is where its last acknowledged move put it, or where the move in
        # flight at the kill was taking it.
        for words in lines:
            if words[0] in ("moving", "moved"):
                folder = None if words[2] == "-" else words[2]
                if words[0] == "moved":
                    where[words[1]] = {folder}
                else:
                    where[words[1]].add(folder)
        with Library.open(library_path) as lib:
            state = assert_consistent(lib)
            assert {i: s for i, (_, s) in state.items()} == images  # none lost, none copied
            for image_id, (folder, _) in state.items():
                assert folder in where[image_id]
                where[image_id] = {folder}
            assert lib.folders() == sorted({f for f, _ in state.values() if f})


def test_killed_while_deleting(library_path: Path) -> None:
    images = populate(library_path, 12)
    alive = set(images)
    deleted: set[str] = set()
    for round_ in range(KILLS):
        lines = run_until_killed(library_path, "delete", seed=200 + round_, acks=2)
        deleted |= {w[1] for w in lines if w[0] == "deleted"}
        in_flight = {w[1] for w in lines if w[0] == "deleting"} - deleted
        with Library.open(library_path) as lib:
            state = assert_consistent(lib)
            for image_id in deleted:
                with pytest.raises(Gone):
                    lib.get(image_id)
            # Untouched images are intact; the one in flight is either whole or a tombstone.
            assert alive - deleted - in_flight <= set(state)
            for image_id in in_flight - set(state):
                with pytest.raises(Gone):
                    lib.get(image_id)
            assert {i: s for i, (_, s) in state.items()} == {i: images[i] for i in state}
        alive = set(state)
    assert deleted


def test_a_killed_writer_leaves_no_incoming_file_anywhere(library_path: Path) -> None:
    run_until_killed(library_path, "add", seed=999, acks=2)
    leftovers = [p for p in library_path.rglob("*") if p.name.startswith("incoming-")]
    with Library.open(library_path) as lib:
        assert_consistent(lib)
    after = [p for p in library_path.rglob("*") if p.name.startswith("incoming-")]
    assert after == []
    assert all(p.parent.name == "tmp" for p in leftovers)  # only ever inside tmp/
