"""Changes made to the library folder by other programs while the library is open are
followed by the real watcher: each test changes real files and waits (bounded) for the
library's own event."""

from __future__ import annotations

import io
import itertools
import logging
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from imageshelf.app.library import EventKind, Gone, Library
from imageshelf.app.library.reconcile import Reconciler
from tests.conftest import image_bytes
from tests.library.helpers import on_disk, row_count, sha256
from tests.library.test_watcher_support import TIMEOUT, EventLog, added_at, from_disk

_colors = itertools.count(1)


def distinct_image(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """A real image whose bytes differ from every other one this module makes."""
    n = next(_colors)
    return image_bytes(fmt, size, color=(n * 37 % 256, n * 91 % 256, n * 13 % 256))


def add(lib: Library, data: bytes, name: str, **kw: object):
    return lib.add(io.BytesIO(data), name, **kw)  # type: ignore[arg-type]


def barrier(lib: Library, log: EventLog) -> None:
    """Copies one more image in and waits until the watcher adopted it and went idle:
    the platform reports changes in order, so everything done to the folder before has
    been handled by then."""
    name = f"barrier-{next(_colors)}.png"
    (lib.root / name).write_bytes(distinct_image("PNG"))
    log.wait_for(added_at(name))
    assert lib.watching
    assert lib.wait_watcher_idle(TIMEOUT)


def test_the_watcher_runs_while_open_and_stops_on_close(library_path: Path) -> None:
    lib = Library.open(library_path, watch=True)
    assert lib.watching
    lib.close()
    assert not lib.watching


def test_an_image_copied_in_is_adopted(watched: Library, log: EventLog) -> None:
    data = distinct_image("PNG", (30, 20))
    (watched.root / "copied.png").write_bytes(data)

    event = log.wait_for(added_at("copied.png"))

    record = watched.get(event.image_id)  # type: ignore[arg-type]
    assert (record.folder, record.filename) == (None, "copied.png")
    assert (record.width, record.height, record.size) == (30, 20, len(data))
    assert record.sha256 == sha256(data)
    assert record.alt_text is None
    assert watched.thumbnail(record.id)[1].size > 0


def test_an_image_copied_into_a_new_folder_is_adopted_there(
    watched: Library, log: EventLog, tmp_path: Path
) -> None:
    outside = tmp_path / "outside" / "Trip ñ"
    outside.mkdir(parents=True)
    (outside / "a.jpg").write_bytes(distinct_image())
    (outside / "b.webp").write_bytes(distinct_image("WEBP"))
    shutil.copytree(outside, watched.root / "trips" / "Trip ñ")

    log.wait_for(added_at("trips/Trip ñ/a.jpg"))
    log.wait_for(added_at("trips/Trip ñ/b.webp"))
    assert watched.folders() == ["trips/Trip ñ"]
    assert watched.count(folder="trips/Trip ñ") == 2


def test_files_that_are_not_images_are_left_alone_and_not_retried(
    watched: Library, log: EventLog, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, logger="imageshelf.app.library")

    def said() -> int:
        return len([r for r in caplog.records if "fake.jpg" in r.getMessage()])

    (watched.root / "notes.txt").write_text("not an image")
    staged = tmp_path / "fake.jpg"  # appears whole, in one step
    staged.write_bytes(b"this is not a jpeg at all")
    os.rename(staged, watched.root / "fake.jpg")
    barrier(watched, log)
    assert said() == 1

    Reconciler(watched.core).run()  # looked at again, unchanged: not read, not re-reported
    assert said() == 1
    with open(watched.root / "fake.jpg", "ab") as fp:  # changed: looked at once more
        fp.write(b", still not")
    barrier(watched, log)
    assert said() == 2

    assert (watched.root / "fake.jpg").read_bytes() == b"this is not a jpeg at all, still not"
    assert (watched.root / "notes.txt").exists()
    with watched.engine.connect() as conn:
        ignored = {r.path for r in conn.execute(text("SELECT path FROM ignored_files"))}
    assert ignored == {"fake.jpg"}
    assert [e for e in log.events if e.kind != EventKind.ADDED] == []
    assert row_count(watched) == 2  # the barrier images only
    assert all(
        r.levelno <= logging.INFO for r in caplog.records if r.name.startswith("imageshelf.app")
    )


def test_an_image_renamed_outside_keeps_its_id_alt_text_and_date(
    watched: Library, log: EventLog
) -> None:
    record = add(watched, distinct_image(), "before.jpg", alt_text="A red square")
    os.rename(on_disk(watched, record), watched.root / "after.jpg")

    event = log.wait_for(from_disk(EventKind.UPDATED, record.id))

    after = watched.get(record.id)
    assert event.image == after
    assert (after.folder, after.filename) == (None, "after.jpg")
    assert after.alt_text == "A red square"
    assert after.created_at_us == record.created_at_us
    assert after.sha256 == record.sha256
    assert row_count(watched) == 1


def test_an_image_moved_to_another_folder_outside_keeps_its_id(
    watched: Library, log: EventLog
) -> None:
    record = add(watched, distinct_image(), "pic.jpg", alt_text="kept", folder="old")
    (watched.root / "new place").mkdir()
    os.rename(on_disk(watched, record), watched.root / "new place" / "pic.jpg")

    log.wait_for(
        lambda e: (
            from_disk(EventKind.UPDATED, record.id)(e)
            and e.image is not None
            and e.image.folder == "new place"
        )
    )
    after = watched.get(record.id)
    assert (after.folder, after.filename, after.alt_text) == ("new place", "pic.jpg", "kept")


def test_a_copy_then_delete_is_matched_by_hash_as_a_move(watched: Library, log: EventLog) -> None:
    record = add(watched, distinct_image(), "orig.jpg", alt_text="same bytes")
    shutil.copyfile(on_disk(watched, record), watched.root / "copy.jpg")
    os.remove(on_disk(watched, record))

    log.wait_for(from_disk(EventKind.UPDATED, record.id))
    after = watched.get(record.id)
    assert (after.filename, after.alt_text) == ("copy.jpg", "same bytes")
    assert row_count(watched) == 1
    assert log.matching(from_disk(EventKind.DELETED)) == []


def test_an_image_edited_outside_gets_new_facts_and_thumbnail(
    watched: Library, log: EventLog
) -> None:
    record = add(watched, distinct_image(size=(64, 48)), "edit.png", alt_text="keep me")
    old_thumb = watched.thumbnail(record.id)[1]
    edited = image_bytes("PNG", (200, 100), color=(0, 0, 255))
    on_disk(watched, record).write_bytes(edited)

    event = log.wait_for(from_disk(EventKind.UPDATED, record.id))

    after = watched.get(record.id)
    assert event.image == after
    assert (after.width, after.height, after.size) == (200, 100, len(edited))
    assert after.sha256 == sha256(edited) != record.sha256
    assert after.alt_text == "keep me"
    assert after.created_at_us == record.created_at_us
    thumb = watched.thumbnail(record.id)[1]
    assert thumb.etag != old_thumb.etag
    with Image.open(thumb.path) as img:
        assert img.size == (200, 100)
        r, g, b = img.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
        assert (r, g) < (10, 10) and b > 240  # the new picture (lossy thumbnail)
    assert not old_thumb.path.exists()


def test_an_image_deleted_outside_is_tombstoned(watched: Library, log: EventLog) -> None:
    record = add(watched, distinct_image(), "bye.jpg", folder="gone soon")
    os.remove(on_disk(watched, record))

    event = log.wait_for(from_disk(EventKind.DELETED, record.id))

    assert event.previous is not None and event.previous.id == record.id
    with pytest.raises(Gone):
        watched.get(record.id)
    assert watched.folders() == []


def test_a_folder_renamed_outside_keeps_every_id(watched: Library, log: EventLog) -> None:
    same = distinct_image()
    records = [
        add(watched, same, "twin-a.jpg", alt_text="a", folder="album/2024"),
        add(watched, same, "twin-b.jpg", alt_text="b", folder="album/2024"),
        add(watched, distinct_image("PNG"), "other.png", alt_text="c", folder="album"),
    ]
    os.rename(watched.root / "album", watched.root / "Albüm renamed")

    log.wait_count(lambda e: e.source == "disk" and e.kind == EventKind.UPDATED, len(records))
    expected = {
        records[0].id: ("Albüm renamed/2024", "twin-a.jpg", "a"),
        records[1].id: ("Albüm renamed/2024", "twin-b.jpg", "b"),
        records[2].id: ("Albüm renamed", "other.png", "c"),
    }
    for image_id, want in expected.items():
        got = watched.get(image_id)
        assert (got.folder, got.filename, got.alt_text) == want
    assert watched.folders() == ["Albüm renamed", "Albüm renamed/2024"]
    assert row_count(watched) == 3


def test_a_folder_removed_outside_tombstones_its_images(watched: Library, log: EventLog) -> None:
    a = add(watched, distinct_image(), "a.jpg", folder="doomed/inner")
    b = add(watched, distinct_image(), "b.jpg", folder="doomed")
    keep = add(watched, distinct_image(), "keep.jpg")
    shutil.rmtree(watched.root / "doomed")

    log.wait_for(from_disk(EventKind.DELETED, a.id))
    log.wait_for(from_disk(EventKind.DELETED, b.id))
    assert watched.folders() == []
    assert watched.get(keep.id) == keep


def test_an_image_copied_in_slowly_is_adopted_once_complete(
    watched: Library, log: EventLog
) -> None:
    # Large enough that a prefix is clearly not the image: noise does not compress.
    noise = Image.effect_noise((600, 400), 90).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "PNG")
    data = out.getvalue()
    path = watched.root / "slow.png"
    with open(path, "wb") as fp:
        step = len(data) // 4
        for i in range(4):
            fp.write(data[i * step : (i + 1) * step if i < 3 else len(data)])
            fp.flush()
            os.fsync(fp.fileno())
            # Longer than the watcher's quiet period, so it looks at the half-written file.
            watched_pause = 0.8
            if i < 3:
                log_wait_quietly(watched_pause)

    event = log.wait_for(added_at("slow.png"))
    barrier(watched, log)

    assert len(log.matching(added_at("slow.png"))) == 1
    record = watched.get(event.image_id)  # type: ignore[arg-type]
    assert (record.size, record.sha256) == (len(data), sha256(data))
    assert (record.width, record.height) == (600, 400)
    assert row_count(watched) == 2  # slow.png and the barrier


def log_wait_quietly(seconds: float) -> None:
    """The pause of a slow writer (the scenario needs it; nothing is asserted on it)."""
    import threading

    threading.Event().wait(seconds)


def test_the_apps_own_writes_do_not_echo(watched: Library, log: EventLog) -> None:
    record = add(watched, distinct_image(), "mine.jpg", alt_text="x")
    moved = watched.update(record.id, folder="elsewhere/deeper")
    renamed_twice = watched.update(moved.id, folder=None, alt_text="y")
    other = add(watched, distinct_image(), "doomed.jpg", folder="tmp folder")
    watched.delete(other.id)
    barrier(watched, log)

    app_events = [e for e in log.events if e.source == "app"]
    assert [e.kind for e in app_events] == [
        EventKind.ADDED,
        EventKind.UPDATED,
        EventKind.UPDATED,
        EventKind.ADDED,
        EventKind.DELETED,
    ]
    disk_events = [e for e in log.events if e.source == "disk"]
    assert [(e.kind, e.image.filename if e.image else None) for e in disk_events] == [
        (EventKind.ADDED, disk_events[0].image.filename if disk_events[0].image else None)
    ]
    assert disk_events[0].image is not None
    assert disk_events[0].image.filename.startswith("barrier-")
    assert watched.get(record.id) == renamed_twice
    assert row_count(watched) == 2


def test_an_outside_change_is_followed_while_the_app_keeps_writing(
    watched: Library, log: EventLog
) -> None:
    """A stream of the app's own uploads keeps the folder busy; the outside file still
    gets its turn within the bound, and none of the uploads echoes."""
    import threading

    stop = threading.Event()
    added: list[str] = []

    def keep_uploading() -> None:
        while not stop.is_set() and len(added) < 5000:
            added.append(add(watched, distinct_image(), "stream.jpg", folder="stream").id)

    writer = threading.Thread(target=keep_uploading)
    writer.start()
    try:
        log.wait_count(lambda e: e.source == "app", 5)
        (watched.root / "outside.png").write_bytes(distinct_image("PNG"))
        log.wait_for(added_at("outside.png"))
    finally:
        stop.set()
        writer.join(60)
    barrier(watched, log)

    disk_added = {e.image.relpath for e in log.matching(from_disk(EventKind.ADDED)) if e.image}
    assert {p for p in disk_added if not p.startswith("barrier-")} == {"outside.png"}
    assert log.matching(lambda e: e.source == "disk" and e.kind != EventKind.ADDED) == []
    assert row_count(watched) == len(added) + 2
