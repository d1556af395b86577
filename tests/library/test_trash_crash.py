"""A process killed with SIGKILL while it trashes, restores and purges: after reopening,
nothing is half-done (every image is live with its file in place, or in the trash with
its file there) and nothing is lost (each image is in exactly one of the two, with the
same bytes, unless a purge was acknowledged)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from imageshelf.app.library import Gone, Library
from tests.library.helpers import sha256
from tests.library.test_crash_safety import KILLS, assert_consistent, populate, run_until_killed

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def assert_trash_consistent(lib: Library) -> dict[str, str]:
    """Every trash row is settled and owns a byte-identical file in trash/; no file there
    is owned by nobody. Returns {id: sha256}."""
    with lib.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, filename, sha256, size, intent FROM trash")).all()
        tombstoned = set(conn.execute(text("SELECT id FROM tombstones")).scalars())
    owned = set()
    for r in rows:
        assert r.intent is None, f"{r.id} left half-way ({r.intent})"
        assert r.id in tombstoned  # a trashed id answers 410
        path = lib.trash.path_of(r.id, r.filename)
        data = path.read_bytes()
        assert (len(data), sha256(data)) == (r.size, r.sha256)
        owned.add(path.name)
    assert {p.name for p in lib.trash.dir.iterdir()} == owned
    return {r.id: r.sha256 for r in rows}


def test_killed_while_trashing_and_restoring(library_path: Path) -> None:
    images = populate(library_path, 10)
    where = {image_id: "live" for image_id in images}
    for round_ in range(KILLS):
        lines = run_until_killed(library_path, "trash", seed=300 + round_, acks=6 + round_ * 4)
        in_flight: set[str] = set()
        for verb, image_id, *_ in lines:
            if verb in ("deleting", "restoring"):
                in_flight.add(image_id)
            elif verb in ("deleted", "restored"):
                in_flight.discard(image_id)
                where[image_id] = "trash" if verb == "deleted" else "live"
        with Library.open(library_path) as lib:
            live = {i: s for i, (_, s) in assert_consistent(lib).items()}
            trashed = assert_trash_consistent(lib)
            assert not live.keys() & trashed.keys()
            assert live | trashed == images  # none lost, none doubled, bytes intact
            for image_id, place in where.items():
                if image_id in in_flight:
                    where[image_id] = "live" if image_id in live else "trash"
                    continue
                assert (image_id in live) == (place == "live"), image_id
            for image_id in trashed:
                with pytest.raises(Gone):
                    lib.get(image_id)
    assert "trash" in where.values()


def test_killed_while_purging(library_path: Path) -> None:
    images = populate(library_path, 12)
    purged: set[str] = set()
    in_flight: set[str] = set()  # purges under way at a kill: done or not, either is whole
    for round_ in range(KILLS):
        lines = run_until_killed(library_path, "purge", seed=400 + round_, acks=3)
        purged |= {w[1] for w in lines if w[0] == "purged"}
        in_flight = (in_flight | {w[1] for w in lines if w[0] == "purging"}) - purged
        with Library.open(library_path) as lib:
            assert assert_consistent(lib) == {}
            trashed = assert_trash_consistent(lib)
            assert not trashed.keys() & purged
            # Only what was purged (or being purged) is gone; the rest waits, intact.
            assert set(images) - purged - in_flight <= set(trashed)
            assert trashed == {i: images[i] for i in trashed}
            for image_id in purged | (in_flight - set(trashed)):
                with pytest.raises(Gone):
                    lib.trash.restore(image_id)
    assert purged


def test_killed_while_emptying_the_trash_goes_on_at_the_next_empty(library_path: Path) -> None:
    images = populate(library_path, 14)
    lines = run_until_killed(library_path, "empty", seed=500, acks=2)
    emptied = max(int(w[1]) for w in lines if w[0] == "emptied")
    assert emptied >= 3  # killed after at least one whole batch
    with Library.open(library_path) as lib:
        assert assert_consistent(lib) == {}
        trashed = assert_trash_consistent(lib)
        # Each batch is whole: what is left is intact; nothing else is anywhere.
        assert trashed == {i: images[i] for i in trashed}
        assert len(trashed) <= len(images) - emptied
        for image_id in set(images) - set(trashed):
            with pytest.raises(Gone):
                lib.trash.restore(image_id)
        assert lib.trash.empty() == len(trashed)  # it simply goes on
        assert assert_trash_consistent(lib) == {}
