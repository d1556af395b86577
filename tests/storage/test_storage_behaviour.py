"""One suite, both storages: what the core's crash-safe steps rely on holds for the
library folder and for an S3 bucket alike (``kind`` is ``folder`` or ``s3``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from imageshelf.app.library import Storage, TooLarge
from imageshelf.app.library.derived import DerivedFiles
from imageshelf.app.library.storage import opened_size
from tests.conftest import image_bytes

IMAGE_ID = "img_01JDQ8ZK7Q5W3V2X1Y0ZABCDEF"


def _received(store: Storage, data: bytes) -> Path:
    sink = store.receive(limit=len(data) + 10)
    sink.write(data)
    tmp, size, sha = sink.finish()
    assert (size, sha) == (len(data), hashlib.sha256(data).hexdigest())
    return tmp


def _placed(store: Storage, data: bytes, image_id: str = IMAGE_ID) -> str:
    tmp = _received(store, data)
    name, _made = store.place(tmp, "a/b", iter(["x.png", "x-2.png"]), image_id=image_id)
    assert not tmp.exists()  # taken over by the store
    return store.key(image_id, f"a/b/{name}")


def test_receive_hashes_and_refuses_past_the_limit(store: Storage) -> None:
    _received(store, b"0123456789")
    over = store.receive(limit=3)
    with pytest.raises(TooLarge):
        over.write(b"four")


def test_placed_bytes_open_whole_and_from_an_offset(store: Storage) -> None:
    data = image_bytes("PNG", (64, 48))
    key = _placed(store, data)
    assert store.exists(key)
    assert store.stat(key)[0] == len(data)
    with store.open(key) as fp:
        assert opened_size(fp) == len(data)
        assert fp.read() == data
    with store.open(key, offset=10) as fp:
        assert fp.read() == data[10:]
    with store.open(key) as fp:  # a Range answer seeks the open file
        fp.seek(len(data) - 5)
        assert fp.read(3) == data[-5:-2]
    assert store.local_path(key).read_bytes() == data


def test_a_place_never_replaces_bytes_already_kept(store: Storage) -> None:
    first = image_bytes("PNG", (10, 10))
    key = _placed(store, first)
    second = _received(store, image_bytes("PNG", (20, 20)))
    if store.keys_follow_names:
        name, _ = store.place(second, "a/b", iter(["x.png", "x-2.png"]), image_id=IMAGE_ID)
        assert name == "x-2.png"  # the next free name
    else:
        with pytest.raises(FileExistsError):  # the conditional create refused
            store.place(second, "a/b", iter(["x.png"]), image_id=IMAGE_ID)
    with store.open(key) as fp:
        assert fp.read() == first


def test_remove_and_a_missing_key(store: Storage) -> None:
    key = _placed(store, b"some bytes")
    store.remove(key)
    store.remove(key)  # already gone: nothing
    assert not store.exists(key)
    with pytest.raises(FileNotFoundError):
        store.open(key)
    with pytest.raises(FileNotFoundError):
        store.stat(key)


def test_park_then_discard_or_put_back(store: Storage) -> None:
    """A delete parks the bytes before its commit: put back on failure, gone after."""
    data = b"parked bytes"
    key = _placed(store, data)
    parked = store.park(key, "deleting-1")
    assert parked is not None
    store.unpark(parked, key)  # the commit failed
    with store.open(key) as fp:
        assert fp.read() == data
    parked = store.park(key, "deleting-2")
    assert parked is not None
    store.discard_parked(parked)  # the commit succeeded
    assert not store.exists(key)
    assert store.park(key, "deleting-3") is None  # nothing there to park


def test_derived_files_put_get_open_list_and_remove(derived: DerivedFiles) -> None:
    sha = "ab" + "0" * 62
    key = f"transforms/ab/{sha}/200x0.webp"
    assert derived.get(key) is None
    assert not derived.exists(key)
    with pytest.raises(FileNotFoundError):
        derived.open(key)
    derived.put(key, b"first")
    derived.put(key, b"second result")  # replaced whole
    assert derived.get(key) == b"second result"
    with derived.open(key, offset=7) as fp:
        assert fp.read() == b"result"
    assert derived.local_path(key).read_bytes() == b"second result"
    derived.put(f"transforms/ab/{sha}/400x0.webp", b"another")
    derived.put(f"thumbs/ab/{sha}.jpg", b"thumb")
    listed = {e.key: e.size for e in derived.list("transforms/")}
    assert listed == {key: 13, f"transforms/ab/{sha}/400x0.webp": 7}
    derived.touch(key)
    derived.remove_prefix(f"transforms/ab/{sha}/")
    assert list(derived.list("transforms/")) == []
    assert derived.get(f"thumbs/ab/{sha}.jpg") == b"thumb"
    derived.remove(f"thumbs/ab/{sha}.jpg")
    derived.remove(f"thumbs/ab/{sha}.jpg")
    assert not derived.exists(f"thumbs/ab/{sha}.jpg")
