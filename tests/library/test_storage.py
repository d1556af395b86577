"""The storage seam's folder implementation keeps the promises the crash-safe steps
rely on: a received file is hashed and counted, a name is never overwritten, a second
name fails when taken, a parked file is out of the library until put back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from imageshelf.app.library import Library, TooLarge
from imageshelf.app.library.storage import FolderStorage, Storage
from tests.conftest import image_bytes


@pytest.fixture
def store(tmp_path: Path) -> FolderStorage:
    (tmp_path / "lib" / "tmp").mkdir(parents=True)
    return FolderStorage(tmp_path / "lib", tmp_path / "lib" / "tmp")


def test_the_library_uses_the_seam(library: Library) -> None:
    storage: Storage = library.core.storage
    assert isinstance(storage, FolderStorage)


def test_receive_hashes_and_refuses_past_the_limit(store: FolderStorage) -> None:
    sink = store.receive(limit=10)
    sink.write(b"0123456789")
    tmp, size, sha = sink.finish()
    assert (size, sha) == (10, hashlib.sha256(b"0123456789").hexdigest())
    over = store.receive(limit=3)
    with pytest.raises(TooLarge):
        over.write(b"four")
    assert sorted(p.name for p in store.tmp_dir.iterdir()) == [tmp.name]


def test_place_never_overwrites_and_open_reads_from_an_offset(store: FolderStorage) -> None:
    (store.root / "a").mkdir()
    (store.root / "a" / "x.jpg").write_bytes(b"already here")
    sink = store.receive(limit=100)
    sink.write(b"new bytes")
    tmp, _, _ = sink.finish()
    name, made = store.place(tmp, "a/b", iter(["x.jpg", "x-2.jpg"]))
    assert (name, made) == ("x.jpg", ["a/b"])
    name2_src = store.receive(limit=100)
    name2_src.write(b"second")
    tmp2, _, _ = name2_src.finish()
    assert store.place(tmp2, "a", iter(["x.jpg", "x-2.jpg"]))[0] == "x-2.jpg"
    assert (store.root / "a" / "x.jpg").read_bytes() == b"already here"
    with store.open("a/b/x.jpg", offset=4) as fp:
        assert fp.read() == b"bytes"
    assert store.stat("a/x-2.jpg")[0] == len(b"second")


def test_link_remove_park_and_list(store: FolderStorage) -> None:
    store.root.joinpath("one.png").write_bytes(image_bytes("PNG"))
    store.root.joinpath("two.png").write_bytes(b"taken")
    assert not store.link("one.png", "two.png")  # a second name never clobbers
    assert store.link("one.png", "three.png") and store.same_file("one.png", "three.png")
    store.remove("three.png")
    store.remove("three.png")  # already gone: nothing
    parked = store.park("one.png", "deleting-x")
    assert parked is not None and not store.exists("one.png")
    assert set(store.list_files()) == {"two.png"}
    store.unpark(parked, "one.png")
    assert set(store.list_files()) == {"one.png", "two.png"}
    assert store.park("missing.png", "deleting-y") is None
