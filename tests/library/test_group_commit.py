"""Uploads that reach their commit together share one (``group_commit.py``): each gets a
free name (the same name sent at once included) and exactly its own row; one that does
not fit costs none of the others; and a kill at any step of a shared commit leaves a
library that opens with every committed image whole and no file without its row."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from imageshelf.app.library import InvalidFolder, Library, group_commit
from imageshelf.app.library.events import Event, EventKind
from imageshelf.app.library.intake import Prepared
from imageshelf.app.library.records import ImageRecord
from tests.library.helpers import tmp_leftovers
from tests.waiting import wait_for

WORKER = Path(__file__).with_name("group_commit_worker.py")
REPO = Path(__file__).resolve().parents[2]

Outcome = ImageRecord | Exception


def _prepare(
    library: Library, make_image: Callable[..., bytes], n: int, name: str
) -> list[Prepared]:
    out = []
    for i in range(n):
        data = make_image("JPEG", (40 + i, 30), (i * 40, 90, 200))
        incoming = library.receive()
        incoming.write(data)
        out.append(library.prepare_file(*incoming.finish(), name))
    return out


def _commit_together(
    library: Library, jobs: list[tuple[Prepared, str | None]]
) -> tuple[list[Outcome], int]:
    """Commits every ``(prepared, folder)`` from its own thread, all queued while the
    write lock is held, so they reach the commit together; the outcomes in order and
    how many commits were made for them."""
    queue = group_commit.queue_of(library.core)
    batches_before = queue.batches
    outcomes: list[Outcome | None] = [None] * len(jobs)

    def commit(i: int) -> None:
        prepared, folder = jobs[i]
        try:
            outcomes[i] = library.commit(prepared, folder=folder, alt_text=f"upload {i}")
        except Exception as exc:  # the outcome asserted below
            outcomes[i] = exc

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(len(jobs))]
    with library.settled():  # the write lock: every commit queues behind it
        for t in threads:
            t.start()
        # One leads (it waits for the lock, its upload still queued) and the rest follow.
        wait_for(lambda: queue.waiting() == len(jobs), "every upload queued")
    for t in threads:
        t.join(60)
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None], queue.batches - batches_before


def test_uploads_reaching_the_commit_together_share_one(
    library: Library, make_image: Callable[..., bytes]
) -> None:
    added: list[Event] = []
    library.core.events.subscribe(lambda e: added.append(e) if e.kind is EventKind.ADDED else None)
    same = _prepare(library, make_image, 4, "photo.jpg")  # one name, sent at once
    other = _prepare(library, make_image, 2, "other.jpg")
    jobs = [(p, "trip") for p in same] + [(p, None) for p in other]
    outcomes, commits = _commit_together(library, jobs)
    assert commits == 1  # one transaction, one WAL fsync, one fsync of each folder
    records = [o for o in outcomes if isinstance(o, ImageRecord)]
    assert len(records) == 6
    assert sorted(r.filename for r in records[:4]) == [
        "photo-2.jpg",
        "photo-3.jpg",
        "photo-4.jpg",
        "photo.jpg",
    ]
    assert sorted(r.filename for r in records[4:]) == ["other-2.jpg", "other.jpg"]
    for i, (record, (prepared, _folder)) in enumerate(zip(records, jobs, strict=True)):
        assert library.get(record.id) == record  # the record is the row as stored
        assert record.alt_text == f"upload {i}" and record.sha256 == prepared.sha256
        data = (library.root / record.relpath).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record.sha256
    assert library.count() == 6
    assert sorted(e.image_id for e in added) == sorted(r.id for r in records)
    assert tmp_leftovers(library) == []  # every copy in tmp/ went after the commit


def test_one_upload_that_does_not_fit_costs_none_of_the_others(
    library: Library, make_image: Callable[..., bytes]
) -> None:
    (library.root / "a-file").write_bytes(b"not a folder")
    outside = library.root.parent / "outside"
    outside.mkdir()
    (library.root / "linked").symlink_to(outside)
    prepared = _prepare(library, make_image, 5, "photo.jpg")
    folders = ["kept", "a-file", "kept", "linked/deeper", None]
    outcomes, commits = _commit_together(library, list(zip(prepared, folders, strict=True)))
    assert commits == 1
    assert isinstance(outcomes[1], InvalidFolder) and isinstance(outcomes[3], InvalidFolder)
    records = [o for o in outcomes if isinstance(o, ImageRecord)]
    assert [r.relpath for r in records] == ["kept/photo.jpg", "kept/photo-2.jpg", "photo.jpg"]
    assert library.count() == 3
    for record in records:
        assert library.get(record.id) == record
    # Nothing of the refused two anywhere: not in the library, not outside, not in tmp/.
    assert (library.root / "a-file").read_bytes() == b"not a folder"
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in (library.root / "kept").iterdir()) == [
        "photo-2.jpg",
        "photo.jpg",
    ]
    assert tmp_leftovers(library) == []
    for refused in (prepared[1], prepared[3]):
        assert library.thumbnails.lookup(refused.sha256) is None


def _killed_in(library_path: Path, step: str, n: int) -> list[str]:
    """Runs the worker, which queues ``n`` uploads for one commit and is killed at
    ``step``; returns the hashes of the uploads it prepared."""
    Library.open(library_path).close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, str(WORKER), str(library_path), step, str(n)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("prepared")]


@pytest.mark.parametrize("step", ["linked", "committed"])
def test_a_kill_inside_a_shared_commit_leaves_a_library_that_opens_whole(
    library_path: Path, step: str
) -> None:
    """``linked``: every file linked under its name, killed at the folder's fsync, before
    the commit (no upload was answered): the next open adopts the whole files and clears
    the copies in tmp/. ``committed``: killed after the commit (the uploads could have
    been answered): every row is there with its file."""
    hashes = _killed_in(library_path, step, 4)
    assert len(hashes) == 4
    with Library.open(library_path) as lib:
        records = lib.list_images(page_size=100).items
        assert sorted(r.sha256 for r in records) == sorted(hashes)
        on_disk = sorted(p.name for p in lib.root.iterdir() if p.is_file())
        assert on_disk == sorted(r.filename for r in records)
        for record in records:
            data = (lib.root / record.relpath).read_bytes()
            assert hashlib.sha256(data).hexdigest() == record.sha256
            if step == "committed":
                assert record.alt_text == "queued"  # the row committed, not adopted
        assert tmp_leftovers(lib) == []


def test_a_queue_longer_than_one_commit_takes_is_committed_in_turns(
    library: Library, make_image: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_commit, "MAX_BATCH", 2)
    prepared = _prepare(library, make_image, 5, "photo.jpg")
    outcomes, commits = _commit_together(library, [(p, None) for p in prepared])
    assert commits == 3  # 2 + 2 + 1: each upload in a commit, whoever led it
    records = [o for o in outcomes if isinstance(o, ImageRecord)]
    assert [r.sha256 for r in records] == [p.sha256 for p in prepared]
    assert len({r.filename for r in records}) == 5 and library.count() == 5
