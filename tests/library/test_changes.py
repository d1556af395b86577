"""The numbered change log (migration 0007's triggers, ``changes.py``): every committed
change of every writer gets its number in its own transaction, in order."""

from __future__ import annotations

import io
import sqlite3
import threading

import pytest
from sqlalchemy import text

from imageshelf.app.library import Library
from imageshelf.app.library.layout import DB_FILE, META_DIR
from tests.conftest import image_bytes

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py


def _png(n: int) -> bytes:
    return image_bytes("PNG", (20, 14), color=(n * 60 % 256, 40, 120))


def _log(lib: Library, since: int = 0) -> list[tuple[str, str]]:
    return [(c.event, c.image_id) for c in lib.changes.read(since).changes]


def test_every_write_path_is_numbered_in_order(library: Library) -> None:
    a = library.add(io.BytesIO(_png(1)), "a.png")
    b = library.add(io.BytesIO(_png(2)), "b.png")
    library.update(a.id, alt_text="A kite")
    library.update(a.id, folder="birds")  # a move: pending_path bookkeeping is no event
    library.update(a.id, alt_text="A kite")  # no change: no event
    library.delete(b.id)
    library.trash.restore(b.id)
    library.delete(b.id)
    library.trash.purge(b.id)
    assert _log(library) == [
        ("image.created", a.id),
        ("image.created", b.id),
        ("image.updated", a.id),
        ("image.updated", a.id),
        ("image.deleted", b.id),
        ("image.restored", b.id),
        ("image.deleted", b.id),
        ("image.purged", b.id),
    ]
    seqs = [c.seq for c in library.changes.read(0).changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert library.changes.latest() == seqs[-1]
    assert _log(library, seqs[3]) == _log(library)[4:]


def test_outside_changes_found_by_reconcile_are_numbered(library: Library) -> None:
    kept = library.add(io.BytesIO(_png(3)), "kept.png")
    (library.root / "dropped in.png").write_bytes(_png(4))
    library.path_of(kept.folder, kept.filename).unlink()
    before = library.changes.latest()
    library.reconcile()
    events = sorted(e for e, _ in _log(library, before))
    assert events == ["image.created", "image.deleted"]


@pytest.mark.folder_only  # a sqlite3 writer; on PG: tests/team
def test_a_change_by_another_connection_wakes_a_waiting_reader(library: Library) -> None:
    """Another process on the library writes through its own SQLite connection: the
    trigger numbers it, and a reader here sees it within its poll."""
    image = library.add(io.BytesIO(_png(5)), "x.png")
    since = library.changes.latest()
    got: list[list[tuple[str, str]]] = []
    waiting = threading.Event()

    def reader() -> None:
        waiting.set()
        found = library.changes.wait(since, timeout=20)
        got.append([(c.event, c.image_id) for c in found.changes])

    thread = threading.Thread(target=reader)
    thread.start()
    assert waiting.wait(10)
    other = sqlite3.connect(library.root / META_DIR / DB_FILE)
    with other:
        other.execute(
            "UPDATE images SET alt_text = 'from elsewhere', updated_at = updated_at + 1 "
            "WHERE id = ?",
            (image.id,),
        )
    other.close()
    thread.join(30)
    assert got == [[("image.updated", image.id)]]


def test_prune_keeps_the_newest_and_a_stale_reader_is_told_to_reset(library: Library) -> None:
    for n in range(3):
        library.add(io.BytesIO(_png(10 + n)), f"p{n}.png")
    latest = library.changes.latest()
    with library.engine.begin() as conn:
        conn.execute(text("UPDATE changes SET at = 0"))
    assert library.changes.prune() == 2
    assert [c.seq for c in library.changes.read(0).changes] == [latest]
    stale = library.changes.read(1)
    assert stale.reset and stale.latest == latest
    assert not library.changes.read(latest - 1).reset
    assert not library.changes.read(0).reset
