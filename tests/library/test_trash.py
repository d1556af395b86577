"""The trash in the core: delete moves an image there (410 meanwhile), restore puts it back
exactly, purge and retention remove it for good; a restart keeps all of it."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from imageshelf.app.library import (
    EventKind,
    Gone,
    InvalidInput,
    Library,
    LibraryError,
    NotFound,
    NotInTrash,
)
from imageshelf.app.library.records import now_us
from imageshelf.app.library.sql import trash_rows
from imageshelf.app.library.trash import DAY_US
from tests.conftest import image_bytes
from tests.library.helpers import library_files, on_disk, sha256
from tests.library.test_watcher import barrier, distinct_image
from tests.library.test_watcher_support import EventLog

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

UNKNOWN = "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"


def add(lib: Library, data: bytes, name: str = "photo.jpg", **kw: object):
    return lib.add(io.BytesIO(data), name, **kw)  # type: ignore[arg-type]


def trash_files(lib: Library) -> list[str]:
    return sorted(p.name for p in lib.trash.dir.iterdir())


def test_delete_moves_the_original_to_the_trash_and_hides_it(library: Library) -> None:
    data = distinct_image()
    rec = add(library, data, "kite ñ.jpg", alt_text="A red kite", folder="birds/raptors")
    other = add(library, distinct_image(), "other.jpg", folder="birds")
    log = EventLog(library)
    library.delete(rec.id)

    assert not on_disk(library, rec).exists()
    assert (library.trash.dir / f"{rec.id}.jpg").read_bytes() == data
    assert library_files(library.root) == ["birds", "birds/other.jpg"]  # emptied folder gone
    for call in (
        lambda: library.get(rec.id),
        lambda: library.open_original(rec.id),
        lambda: library.thumbnail(rec.id),
        lambda: library.update(rec.id, alt_text="x"),
        lambda: library.delete(rec.id),
    ):
        with pytest.raises(Gone):
            call()
    # Listings, counts, folders and search leave it out.
    assert [r.id for r in library.list_images().items] == [other.id]
    assert library.count() == 1
    assert library.count(folder="birds/raptors") == 0
    assert library.folders() == ["birds"]
    assert library.list_images(search="kite").total == 0
    assert library.list_images(search="red kite").items == []
    assert [e.kind for e in log.events] == [EventKind.DELETED]

    page = library.trash.items()
    assert page.total == library.trash.count() == 1
    item = page.items[0]
    assert item.image == rec
    assert item.purge_at_us == item.deleted_at_us + 30 * DAY_US


def test_restore_puts_it_back_exactly(library: Library) -> None:
    data = distinct_image("PNG")
    rec = add(library, data, "logo.png", alt_text="Acme logo", folder="brand/old")
    _, thumb = library.thumbnail(rec.id)
    library.delete(rec.id)
    log = EventLog(library)
    restored = library.trash.restore(rec.id)
    assert restored == rec  # id, name, folder, alt text, size, hash, created and updated
    assert library.get(rec.id) == rec
    assert on_disk(library, rec).read_bytes() == data
    assert library.thumbnail(rec.id)[1] == thumb
    assert library.folders() == ["brand/old"]  # made again
    assert library.list_images(search="acme").total == 1
    assert trash_files(library) == [] and library.trash.count() == 0
    assert [(e.kind, e.image) for e in log.events] == [(EventKind.RESTORED, rec)]


def test_restore_takes_the_next_free_name_when_it_was_taken(library: Library) -> None:
    first = add(library, distinct_image(), "logo.jpg", folder="f")
    library.delete(first.id)
    second = add(library, distinct_image(), "logo.jpg", folder="f")
    assert second.filename == "logo.jpg"  # a trashed image holds no name
    restored = library.trash.restore(first.id)
    assert (restored.id, restored.folder, restored.filename) == (first.id, "f", "logo-2.jpg")
    assert restored.created_at_us == first.created_at_us
    assert restored.updated_at_us > first.updated_at_us
    assert library.list_images(search="logo-2").total == 1
    assert library.get(second.id).filename == "logo.jpg"


def test_restore_and_purge_refuse_what_is_not_in_the_trash(library: Library) -> None:
    live = add(library, distinct_image())
    for call in (library.trash.restore, library.trash.purge, library.trash.get):
        with pytest.raises(NotInTrash) as info:
            call(live.id)
        assert info.value.code == "not_in_trash"
        with pytest.raises(NotFound):
            call(UNKNOWN)
        with pytest.raises(NotFound):
            call("not-an-id")
    library.delete(live.id)
    library.trash.purge(live.id)
    for call in (library.trash.restore, library.trash.purge, library.get):
        with pytest.raises(Gone):
            call(live.id)
    assert trash_files(library) == []


def test_a_file_deleted_outside_is_tombstoned_not_trashed(library: Library) -> None:
    rec = add(library, distinct_image())
    on_disk(library, rec).unlink()
    library.reconcile()
    with pytest.raises(Gone):
        library.trash.restore(rec.id)
    # Deleted in the app before the reconcile noticed: the same.
    rec2 = add(library, distinct_image())
    on_disk(library, rec2).unlink()
    library.delete(rec2.id)
    assert library.trash.count() == 0
    with pytest.raises(Gone):
        library.trash.restore(rec2.id)


def test_purge_and_empty_remove_files_rows_and_unshared_thumbnails(library: Library) -> None:
    twin = distinct_image()
    a = add(library, twin, "a.jpg")
    b = add(library, twin, "b.jpg")  # same bytes, same thumbnail
    c = add(library, distinct_image(), "c.jpg")
    thumbs = {r.id: library.thumbnail(r.id)[1].path for r in (a, b, c)}
    for r in (a, b, c):
        library.delete(r.id)
    library.trash.purge(a.id)
    assert thumbs[a.id].exists()  # b, in the trash, still shows it
    log = EventLog(library)
    assert library.trash.empty() == 2
    assert not thumbs[b.id].exists() and not thumbs[c.id].exists()
    assert trash_files(library) == [] and library.trash.count() == 0
    assert sorted(e.image_id for e in log.events if e.kind is EventKind.PURGED) == sorted(
        [b.id, c.id]
    )
    assert library.trash.empty() == 0


def test_retention_is_a_library_setting_and_purges_only_what_expired(library: Library) -> None:
    old, new = add(library, distinct_image()), add(library, distinct_image())
    library.delete(old.id)
    library.delete(new.id)
    with library.engine.begin() as conn:  # deleted 10 days ago
        conn.execute(
            text("UPDATE trash SET deleted_at = deleted_at - :d WHERE id = :id"),
            {"d": 10 * DAY_US, "id": old.id},
        )
    assert library.trash.retention_days() == 30
    assert library.trash.purge_expired() == 0
    library.trash.set_retention_days(0)
    assert [i.purge_at_us for i in library.trash.items().items] == [None, None]
    assert library.trash.purge_expired() == 0
    with pytest.raises(InvalidInput):
        library.trash.set_retention_days(-1)
    library.trash.set_retention_days(7)
    # The keeper is woken by the change and purges the old one.
    EventLog(library).wait_for(lambda e: e.kind is EventKind.PURGED and e.image_id == old.id)
    assert [i.image.id for i in library.trash.items().items] == [new.id]
    with pytest.raises(Gone):
        library.trash.restore(old.id)


def test_retention_runs_at_open_and_survives_a_restart(library_path: Path) -> None:
    with Library.open(library_path) as lib:
        keep, expire = add(lib, distinct_image()), add(lib, distinct_image())
        lib.delete(keep.id)
        lib.delete(expire.id)
        lib.trash.set_retention_days(2)
        with lib.engine.begin() as conn:
            conn.execute(
                text("UPDATE trash SET deleted_at = deleted_at - :d WHERE id = :id"),
                {"d": 3 * DAY_US, "id": expire.id},
            )
    with Library.open(library_path) as lib:
        # The look at open runs on the keeper's thread and may finish before anyone could
        # subscribe to its events: wait for the look itself.
        assert lib.trash.wait_for_retention(timeout=30)
        with pytest.raises(Gone):
            lib.trash.get(expire.id)
        assert lib.trash.retention_days() == 2
        assert [i.image.id for i in lib.trash.items().items] == [keep.id]
        assert lib.trash.restore(keep.id) == keep


def test_the_hourly_look_purges_while_running(library: Library) -> None:
    library.trash.stop_keeper()
    rec = add(library, distinct_image())
    library.delete(rec.id)
    with library.engine.begin() as conn:
        conn.execute(text("UPDATE trash SET deleted_at = deleted_at - :d"), {"d": 31 * DAY_US})
    log = EventLog(library)
    library.trash.start_keeper(interval_s=0.05)  # "hourly", shortened
    log.wait_for(lambda e: e.kind is EventKind.PURGED and e.image_id == rec.id)


def test_restore_after_a_restart(library_path: Path) -> None:
    data = distinct_image()
    with Library.open(library_path) as lib:
        rec = add(lib, data, "night.jpg", alt_text="Night sky", folder="sky")
        lib.delete(rec.id)
    with Library.open(library_path) as lib:
        assert lib.trash.get(rec.id).image == rec
        with pytest.raises(Gone):
            lib.get(rec.id)
        assert lib.trash.restore(rec.id) == rec
    with Library.open(library_path) as lib:
        assert lib.get(rec.id) == rec
        assert on_disk(lib, rec).read_bytes() == data
        assert sha256(data) == rec.etag


def test_trash_a_folder_with_everything_below_it(library: Library) -> None:
    a = add(library, distinct_image(), folder="trip")
    b = add(library, distinct_image(), folder="trip/day 1")
    c = add(library, distinct_image(), folder="trips")  # a sibling, not below
    assert sorted(library.trash_folder("trip")) == sorted([a.id, b.id])
    assert library.folders() == ["trips"]
    assert library.get(c.id) == c
    assert not (library.root / "trip").exists()
    assert library.trash.count() == 2
    library.trash.restore(b.id)
    assert library.folders() == ["trip/day 1", "trips"]


def test_trashed_files_are_never_adopted_and_the_watcher_reports_nothing(
    watched: Library,
) -> None:
    log = EventLog(watched)
    rec = add(watched, distinct_image(), "w.jpg", folder="w")
    watched.delete(rec.id)
    watched.trash.restore(rec.id)
    watched.delete(rec.id)
    barrier(watched, log)
    disk = [e for e in log.events if e.source == "disk"]
    assert [(e.kind, e.image.filename[:8] if e.image else None) for e in disk] == [
        (EventKind.ADDED, "barrier-")
    ]
    assert [e.kind for e in log.events if e.source == "app"] == [
        EventKind.ADDED,
        EventKind.DELETED,
        EventKind.RESTORED,
        EventKind.DELETED,
    ]
    watched.reconcile()  # a full pass: .imageshelf/trash is not part of the library
    assert watched.count() == 1  # only the barrier image
    assert watched.trash.count() == 1


def test_a_file_removed_from_the_trash_by_hand_is_gone_at_open(library_path: Path) -> None:
    with Library.open(library_path) as lib:
        rec = add(lib, distinct_image())
        lib.delete(rec.id)
        path = lib.trash.dir / f"{rec.id}.jpg"
    path.unlink()
    (path.parent / "stray.bin").write_bytes(b"x")  # owned by no row: removed
    with Library.open(library_path) as lib:
        assert lib.trash.count() == 0
        assert trash_files(lib) == []
        with pytest.raises(Gone):
            lib.trash.restore(rec.id)


# --- interrupted steps, recovered at open (the SIGKILL tests do the same for real) ---------


def _interrupt(library_path: Path, data: bytes) -> tuple[str, Path, Path]:
    with Library.open(library_path) as lib:
        rec = add(lib, data, "x.jpg", folder="f")
        return rec.id, on_disk(lib, rec), lib.trash.dir / f"{rec.id}.jpg"


def test_a_trash_killed_before_the_rename_leaves_the_image_live(library_path: Path) -> None:
    data = distinct_image()
    image_id, live, _ = _interrupt(library_path, data)
    with Library.open(library_path) as lib, lib.core.write() as conn:
        trash_rows.copy_in(conn, image_id, now_us())  # step 1 of a trash, then the kill
    with Library.open(library_path) as lib:
        assert lib.get(image_id).relpath == "f/x.jpg"
        assert live.read_bytes() == data
        assert lib.trash.count() == 0
        lib.delete(image_id)  # no stale intent in the way
        assert lib.trash.restore(image_id).relpath == "f/x.jpg"


def test_a_trash_killed_after_the_rename_is_finished(library_path: Path) -> None:
    data = distinct_image()
    image_id, live, trashed = _interrupt(library_path, data)
    with Library.open(library_path) as lib, lib.core.write() as conn:
        trash_rows.copy_in(conn, image_id, now_us())  # step 1 of a trash, then the kill
    os.replace(live, trashed)
    with Library.open(library_path) as lib:
        with pytest.raises(Gone):
            lib.get(image_id)
        assert lib.trash.restore(image_id).relpath == "f/x.jpg"
        assert live.read_bytes() == data


@pytest.mark.parametrize("stage", ["linked", "unlinked"])
def test_a_restore_killed_midway_is_undone_or_finished(library_path: Path, stage: str) -> None:
    data = distinct_image()
    image_id, live, trashed = _interrupt(library_path, data)
    with Library.open(library_path) as lib:
        lib.delete(image_id)
        with lib.engine.begin() as conn:
            conn.execute(
                text("UPDATE trash SET intent = 'restoring', intent_path = :p"),
                {"p": "f\x1fx.jpg"},
            )
    live.parent.mkdir()
    os.link(trashed, live)
    if stage == "unlinked":
        trashed.unlink()
    with Library.open(library_path) as lib:
        if stage == "linked":  # undone: still in the trash, no second name left
            assert not live.exists()
            assert lib.trash.get(image_id).image.relpath == "f/x.jpg"
            lib.trash.restore(image_id)
        else:  # finished
            assert lib.trash.count() == 0
        assert lib.get(image_id).relpath == "f/x.jpg"
        assert live.read_bytes() == data
        assert trash_files(lib) == []


def test_a_purge_killed_after_its_commit_leaves_no_file_behind(library_path: Path) -> None:
    image_id, _, trashed = _interrupt(library_path, distinct_image())
    with Library.open(library_path) as lib:
        lib.delete(image_id)
        with lib.engine.begin() as conn:
            conn.execute(text("DELETE FROM trash"))
    assert trashed.exists()
    with Library.open(library_path) as lib:
        assert trash_files(lib) == []
        with pytest.raises(Gone):
            lib.trash.restore(image_id)


@pytest.mark.folder_only  # PRAGMA; PG: the drift test
def test_every_image_column_is_kept_in_the_trash(library: Library) -> None:
    """A migration adding a column to ``images`` must add it to ``trash`` too, or a
    restore would lose it (trash.py copies the columns by name)."""
    with library.engine.connect() as conn:
        images = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(images)")}
        trash = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(trash)")}
    assert images - {"pk", "pending_path"} <= trash


def test_animated_and_other_formats_come_back_byte_identical(library: Library) -> None:
    for fmt, name in (("GIF", "a.gif"), ("WEBP", "a.webp"), ("PNG", "a.png")):
        data = image_bytes(fmt, frames=3) if fmt != "PNG" else image_bytes(fmt)
        rec = add(library, data, name)
        library.delete(rec.id)
        assert library.trash.restore(rec.id) == rec
        assert on_disk(library, rec).read_bytes() == data


def test_trash_folder_refuses_the_top_level_and_bad_names(library: Library) -> None:
    add(library, distinct_image())
    for bad in ("", None, "../x", ".hidden"):
        with pytest.raises(InvalidInput):
            library.trash_folder(bad)  # type: ignore[arg-type]
    assert library.count() == 1
    assert library.trash_folder("no such folder") == []


def test_a_restore_into_a_folder_that_became_a_link_is_refused(
    library: Library, tmp_path: Path
) -> None:
    rec = add(library, distinct_image(), folder="real")
    library.delete(rec.id)
    outside = tmp_path / "outside"
    outside.mkdir()
    (library.root / "real").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInput) as info:
        library.trash.restore(rec.id)
    assert info.value.code == "invalid_folder"
    assert list(outside.iterdir()) == []
    assert library.trash.get(rec.id).image == rec  # still in the trash, whole
    (library.root / "real").unlink()
    assert library.trash.restore(rec.id) == rec


def test_move_many_trashes_in_batches_and_goes_on_past_a_failure(
    library: Library, tmp_path: Path
) -> None:
    import imageshelf.app.library.trash as trash_module

    records = [add(library, distinct_image(), f"m{i}.jpg", folder="many") for i in range(7)]
    gone = add(library, distinct_image())
    library.delete(gone.id)
    missing = add(library, distinct_image(), "missing.jpg")
    on_disk(library, missing).unlink()
    linked = add(library, distinct_image(), "l.jpg", folder="real")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.move(library.root / "real" / "l.jpg", outside / "l.jpg")
    (library.root / "real").rmdir()
    (library.root / "real").symlink_to(outside, target_is_directory=True)
    log = EventLog(library)
    old = trash_module.MOVE_BATCH
    trash_module.MOVE_BATCH = 3  # several batches
    try:
        ids = [r.id for r in records] + [gone.id, missing.id, linked.id]
        with pytest.raises(LibraryError) as info:
            library.trash.move_many(ids)
    finally:
        trash_module.MOVE_BATCH = old
    assert "link" in info.value.message
    assert library.trash.count() == 1 + 7  # gone, and the seven
    assert not (library.root / "many").exists()
    assert library.get(linked.id) == linked  # refused: left as it was
    assert (outside / "l.jpg").exists()
    with pytest.raises(Gone):
        library.trash.restore(missing.id)  # its file was already gone: tombstoned
    deleted = [e.image_id for e in log.events if e.kind is EventKind.DELETED]
    assert sorted(deleted) == sorted([r.id for r in records] + [missing.id])
    for r in records:
        assert library.trash.restore(r.id) == r
