"""Changes made to the folder while the library was closed are found at the next open,
by the same rules the watcher follows: moved files keep their ids, edited ones get new
facts, deleted ones become tombstones, new images are adopted — and only what changed
is read."""

from __future__ import annotations

import io
import os
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from imageshelf.app.library import Event, EventKind, Gone, Library, LibraryError
from imageshelf.app.library.reconcile import Reconciler
from imageshelf.app.library.records import ImageRecord
from tests.conftest import image_bytes
from tests.library.helpers import row_count, sha256, tmp_leftovers


def colored(n: int, fmt: str = "JPEG", size: tuple[int, int] = (40, 30)) -> bytes:
    return image_bytes(fmt, size, color=(n * 53 % 256, n * 19 % 256, 255 - n % 256))


def seed(path: Path, items: list[tuple[bytes, str, str | None, str | None]]) -> list[ImageRecord]:
    """Opens, adds (data, name, folder, alt text) each, closes."""
    with Library.open(path) as lib:
        return [
            lib.add(io.BytesIO(data), name, alt_text=alt, folder=folder)
            for data, name, folder, alt in items
        ]


class Reopened:
    """The library opened again, its start-up reconciliation watched."""

    def __init__(self, path: Path) -> None:
        self.lib = Library.open(path, reconcile=False)
        self.events: list[Event] = []
        self.progress: list[tuple[int, int]] = []
        self.lib.subscribe(self.events.append)
        self.lib.reconcile(lambda done, total: self.progress.append((done, total)))

    @property
    def total(self) -> int:
        return self.progress[-1][1]

    def kinds(self) -> list[tuple[EventKind, str | None]]:
        return sorted((e.kind, e.image_id) for e in self.events)


@pytest.fixture
def reopened_libs() -> list[Library]:
    return []


@pytest.fixture(autouse=True)
def _close_reopened(reopened_libs: list[Library]):
    yield
    for lib in reopened_libs:
        lib.close()


@pytest.fixture
def reopen(reopened_libs: list[Library]):
    def _reopen(path: Path) -> Reopened:
        r = Reopened(path)
        reopened_libs.append(r.lib)
        return r

    return _reopen


def test_nothing_changed_reads_nothing(library_path: Path, reopen) -> None:
    seed(library_path, [(colored(i), f"p{i}.jpg", "f" if i % 2 else None, None) for i in range(12)])
    r = reopen(library_path)
    assert r.progress == [(0, 0)]
    assert r.events == []


def test_an_image_copied_in_while_closed_is_adopted(library_path: Path, reopen) -> None:
    seed(library_path, [(colored(1), "old.jpg", None, None)])
    data = colored(2, "PNG", (33, 22))
    (library_path / "new folder").mkdir()
    (library_path / "new folder" / "copied.png").write_bytes(data)

    r = reopen(library_path)

    [event] = r.events
    assert (event.kind, event.source) == (EventKind.ADDED, "disk")
    record = r.lib.get(event.image_id)
    assert (record.folder, record.filename, record.width, record.height) == (
        "new folder",
        "copied.png",
        33,
        22,
    )
    assert record.sha256 == sha256(data)
    assert r.progress[-1] == (1, 1)


def test_an_image_renamed_and_moved_while_closed_keeps_its_id(library_path: Path, reopen) -> None:
    a, b = seed(
        library_path,
        [(colored(1), "a.jpg", None, "first"), (colored(2), "b.jpg", "x", "second")],
    )
    os.rename(library_path / "a.jpg", library_path / "renamed.jpg")
    (library_path / "y").mkdir()
    os.rename(library_path / "x" / "b.jpg", library_path / "y" / "b.jpg")
    os.rmdir(library_path / "x")

    r = reopen(library_path)

    assert r.kinds() == sorted([(EventKind.UPDATED, a.id), (EventKind.UPDATED, b.id)])
    got_a, got_b = r.lib.get(a.id), r.lib.get(b.id)
    assert (got_a.folder, got_a.filename, got_a.alt_text) == (None, "renamed.jpg", "first")
    assert (got_b.folder, got_b.filename, got_b.alt_text) == ("y", "b.jpg", "second")
    assert got_a.created_at_us == a.created_at_us
    assert r.lib.folders() == ["y"]
    assert row_count(r.lib) == 2


def test_a_folder_renamed_while_closed_keeps_every_id(library_path: Path, reopen) -> None:
    twin = colored(7)
    records = seed(
        library_path,
        [
            (twin, "t1.jpg", "trip/day 1", "one"),
            (twin, "t2.jpg", "trip/day 1", "two"),
            (colored(8), "map.jpg", "trip", "map"),
        ]
        + [(colored(20 + i), f"u{i}.jpg", "untouched", None) for i in range(5)],
    )
    os.rename(library_path / "trip", library_path / "Reise ü")

    r = reopen(library_path)

    want = {
        records[0].id: ("Reise ü/day 1", "t1.jpg", "one"),
        records[1].id: ("Reise ü/day 1", "t2.jpg", "two"),
        records[2].id: ("Reise ü", "map.jpg", "map"),
    }
    for image_id, expected in want.items():
        got = r.lib.get(image_id)
        assert (got.folder, got.filename, got.alt_text) == expected
    assert r.lib.folders() == ["Reise ü", "Reise ü/day 1", "untouched"]
    assert row_count(r.lib) == 8
    assert r.total == 6  # three files gone, three found: the untouched five never read
    assert all(e.kind == EventKind.UPDATED for e in r.events)


def test_an_image_edited_while_closed_gets_new_facts(library_path: Path, reopen) -> None:
    [record] = seed(library_path, [(colored(1, "PNG"), "e.png", None, "kept")])
    edited = colored(2, "PNG", (120, 80))
    (library_path / "e.png").write_bytes(edited)

    r = reopen(library_path)

    [event] = r.events
    assert (event.kind, event.image_id, event.source) == (EventKind.UPDATED, record.id, "disk")
    got = r.lib.get(record.id)
    assert (got.width, got.height, got.size, got.sha256) == (120, 80, len(edited), sha256(edited))
    assert got.alt_text == "kept"
    _, thumb = r.lib.thumbnail(record.id)
    assert thumb.path.read_bytes()[:2] in (b"\xff\xd8", b"\x89P")


def test_an_image_only_touched_while_closed_is_not_changed(library_path: Path, reopen) -> None:
    [record] = seed(library_path, [(colored(1), "t.jpg", None, None)])
    os.utime(library_path / "t.jpg", ns=(1_000_000_000, 1_000_000_000))

    r = reopen(library_path)

    assert r.events == []
    assert r.lib.get(record.id) == record


def test_images_deleted_while_closed_are_tombstoned(library_path: Path, reopen) -> None:
    a, b, keep = seed(
        library_path,
        [
            (colored(1), "a.jpg", None, None),
            (colored(2), "b.jpg", "gone/deep", None),
            (colored(3), "keep.jpg", "kept", None),
        ],
    )
    os.remove(library_path / "a.jpg")
    shutil.rmtree(library_path / "gone")

    r = reopen(library_path)

    assert r.kinds() == sorted([(EventKind.DELETED, a.id), (EventKind.DELETED, b.id)])
    for gone in (a, b):
        with pytest.raises(Gone):
            r.lib.get(gone.id)
    assert r.lib.get(keep.id) == keep
    assert r.lib.folders() == ["kept"]


def test_an_image_replaced_by_something_else_while_closed_is_gone(
    library_path: Path, reopen
) -> None:
    [record] = seed(library_path, [(colored(1), "r.jpg", None, "x")])
    (library_path / "r.jpg").write_bytes(b"now a text file with an image's name")

    r = reopen(library_path)

    with pytest.raises(Gone):
        r.lib.get(record.id)
    assert (library_path / "r.jpg").exists()  # other people's files are never removed
    assert row_count(r.lib) == 0


def test_non_images_are_remembered_not_read_again(library_path: Path, reopen) -> None:
    seed(library_path, [(colored(1), "ok.jpg", None, None)])
    (library_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbut then nothing")
    (library_path / "readme.md").write_text("hello")

    first = reopen(library_path)
    assert first.events == [] and first.total == 1
    first.lib.close()
    second = reopen(library_path)
    assert second.progress == [(0, 0)]


def test_every_kind_of_change_at_once(library_path: Path, reopen) -> None:
    records = seed(
        library_path,
        [(colored(i), f"img{i}.jpg", ["a", "b/c", None][i % 3], f"alt {i}") for i in range(9)],
    )
    by_name = {r.filename: r for r in records}
    os.rename(library_path / "a", library_path / "A renamed")  # img0, img3, img6
    os.remove(library_path / "img2.jpg")
    (library_path / "b" / "c" / "img1.jpg").write_bytes(colored(99, size=(10, 10)))
    (library_path / "fresh.webp").write_bytes(colored(50, "WEBP"))
    os.rename(library_path / "img5.jpg", library_path / "b" / "img5 moved.jpg")

    r = reopen(library_path)

    def where(name: str) -> tuple[str | None, str]:
        got = r.lib.get(by_name[name].id)
        return got.folder, got.filename

    assert where("img0.jpg") == ("A renamed", "img0.jpg")
    assert where("img6.jpg") == ("A renamed", "img6.jpg")
    assert where("img5.jpg") == ("b", "img5 moved.jpg")
    assert r.lib.get(by_name["img1.jpg"].id).width == 10
    with pytest.raises(Gone):
        r.lib.get(by_name["img2.jpg"].id)
    assert r.lib.count() == 9  # one gone, one new
    assert r.lib.folders() == ["A renamed", "b", "b/c"]
    assert [p for p in r.progress if p[0] > p[1]] == []
    assert r.progress[-1][0] == r.progress[-1][1]
    assert tmp_leftovers(r.lib) == []
    with r.lib.engine.connect() as conn:
        rows = conn.execute(text("SELECT folder, filename FROM images")).all()
    for folder, filename in rows:
        assert r.lib.path_of(folder or None, filename).is_file()


def test_a_reconciliation_stopped_half_way_leaves_whole_steps_only(library_path: Path) -> None:
    seed(library_path, [(colored(1), "first.jpg", None, None)])
    for i in range(20):
        (library_path / f"new{i}.jpg").write_bytes(colored(100 + i))
    with Library.open(library_path, reconcile=False) as lib:
        stop = threading.Event()

        def progress(done: int, total: int) -> None:
            if done >= 3:
                stop.set()

        with pytest.raises(LibraryError):
            Reconciler(lib.core, stop=stop).run(progress)
        partial = lib.count()
        assert 1 < partial < 21
        for record in lib.list_images(page_size=100).items:
            assert sha256(lib.path_of(record.folder, record.filename).read_bytes()) == (
                record.sha256
            )
        Reconciler(lib.core).run()
        assert lib.count() == 21
