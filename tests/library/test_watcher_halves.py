"""A move the platform reports in two halves, in separate batches: the watcher's scoped
reconcile must still recognise it (by content hash) whichever half comes first, instead
of minting a new id for the new name and tombstoning the old one."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from imageshelf.app.library import Event, EventKind, Library, StorageError
from imageshelf.app.library.reconcile import Reconciler
from tests.conftest import image_bytes
from tests.library.helpers import row_count


def test_the_new_name_reported_before_the_old_one_vanished_keeps_the_id(
    library: Library,
) -> None:
    record = library.add(io.BytesIO(image_bytes()), "a.jpg", alt_text="kept", folder="from")
    (library.root / "to").mkdir()
    os.rename(library.root / "from" / "a.jpg", library.root / "to" / "a.jpg")
    events: list[Event] = []
    library.subscribe(events.append)

    # Only the create half in this batch ("from/a.jpg" is not in scope).
    Reconciler(library.core, hold_doubtful=True).run(scope=["to", "to/a.jpg"])

    got = library.get(record.id)
    assert (got.folder, got.filename, got.alt_text) == ("to", "a.jpg", "kept")
    assert [(e.kind, e.image_id) for e in events] == [(EventKind.UPDATED, record.id)]
    # The delete half, later: nothing left to do.
    Reconciler(library.core, hold_doubtful=True).run(scope=["from", "from/a.jpg"])
    assert len(events) == 1
    assert row_count(library) == 1


def test_the_old_name_vanishing_first_is_held_not_tombstoned(library: Library) -> None:
    record = library.add(io.BytesIO(image_bytes("PNG")), "b.png", alt_text="kept")
    outside_for_a_moment = library.root.parent / "b.png"
    os.rename(library.root / "b.png", outside_for_a_moment)
    events: list[Event] = []
    library.subscribe(events.append)

    first = Reconciler(library.core, hold_doubtful=True)
    first.run(scope=["b.png"])
    assert first.held == {"b.png"}
    assert library.get(record.id) == record  # not tombstoned yet
    assert events == []

    (library.root / "later").mkdir()
    os.rename(outside_for_a_moment, library.root / "later" / "b.png")
    Reconciler(library.core, hold_doubtful=True).run(scope=["later"])

    got = library.get(record.id)
    assert (got.folder, got.filename, got.alt_text) == ("later", "b.png", "kept")
    assert [(e.kind, e.image_id) for e in events] == [(EventKind.UPDATED, record.id)]


def test_a_copy_whose_original_still_exists_is_a_new_image(library: Library) -> None:
    data = image_bytes()
    record = library.add(io.BytesIO(data), "orig.jpg")
    (library.root / "copy.jpg").write_bytes(data)

    Reconciler(library.core, hold_doubtful=True).run(scope=["copy.jpg"])

    assert library.get(record.id) == record
    assert sorted(r.filename for r in library.list_images().items) == ["copy.jpg", "orig.jpg"]
    assert len({r.id for r in library.list_images().items}) == 2


def test_held_then_still_missing_is_tombstoned_by_a_plain_run(library_path: Path) -> None:
    with Library.open(library_path) as lib:
        record = lib.add(io.BytesIO(image_bytes()), "gone.jpg")
        os.remove(lib.root / "gone.jpg")
        held = Reconciler(lib.core, hold_doubtful=True)
        held.run(scope=["gone.jpg"])
        assert held.held == {"gone.jpg"}
        Reconciler(lib.core).run(scope=["gone.jpg"])
        assert lib.count() == 0
        assert lib.find_by_hash(record.sha256) == []


def test_a_library_folder_that_vanished_is_not_a_folder_of_deleted_images(
    library: Library, tmp_path: Path
) -> None:
    record = library.add(io.BytesIO(image_bytes()), "a.jpg", folder="f")
    away = tmp_path / "moved away"
    os.rename(library.root, away)
    try:
        for reconciler in (Reconciler(library.core), Reconciler(library.core, hold_doubtful=True)):
            with pytest.raises(StorageError) as info:
                reconciler.run()
            assert "no longer there" in str(info.value)
            with pytest.raises(StorageError):
                reconciler.run(scope=["f"])
        assert library.get(record.id) == record  # the database moved along, untouched
    finally:
        os.rename(away, library.root)
    Reconciler(library.core).run()
    assert library.get(record.id) == record
