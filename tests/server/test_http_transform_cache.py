"""The transform cache and its limits, through a live waitress server: eviction by size,
results removed with their original, identical requests computed once, and 503 busy
with Retry-After when the slots and the queue are full.

The concurrency tests hold the process-wide decode budget themselves (a real API): a
transform that got its slot then waits for pixels, so the test decides when the work
may go on, and waits for the states it needs on the service's own conditions."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from imageshelf.app.library import Busy, InvalidInput, Library, settings
from imageshelf.app.library.decode_budget import DECODE_BUDGET
from imageshelf.app.library.transforms import SlotGate
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.server.library_files import name_of, sha_of, transform_files

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

WAIT = 20.0


@contextmanager
def _budget_held() -> Iterator[None]:
    """Holds the whole decode budget: every transform's decode waits until released."""
    with DECODE_BUDGET.hold(DECODE_BUDGET.limit, timeout=WAIT):
        yield


def test_results_are_cached_and_served_from_the_cache(
    live_server: BackgroundServer, library: Library
) -> None:
    record = library.add(io.BytesIO(image_bytes("JPEG", (900, 600))), "c.jpg")
    url = f"{live_server.base_url}/i/{record.id}.webp?w=200"
    first = requests.get(url, timeout=30)
    files = transform_files(library)
    assert len(files) == 1 and library.core.derived.get(files[0].key) == first.content
    assert sha_of(files[0]) == record.sha256
    for _ in range(3):
        assert requests.get(url, timeout=30).content == first.content
    assert library.transforms.computations == 1
    library.core.derived.remove(files[0].key)  # safe to delete: rebuilt on demand
    assert requests.get(url, timeout=30).content == first.content
    assert library.transforms.computations == 2


def test_eviction_by_size_least_recently_used_first(
    live_server: BackgroundServer, library: Library
) -> None:
    record = library.add(io.BytesIO(image_bytes("PNG", (600, 400))), "e.png")
    base = f"{live_server.base_url}/i/{record.id}.png"
    sizes = {w: len(requests.get(f"{base}?w={w}", timeout=30).content) for w in (100, 101, 102)}
    assert library.transforms.cache.total_bytes == sum(sizes.values())
    # Room for about three results: one more evicts the least recently used.
    settings.put(library, settings.TRANSFORM_CACHE_BYTES, sum(sizes.values()) + sizes[100] // 2)
    requests.get(f"{base}?w=100", timeout=30)  # used again: 101 is now the oldest
    requests.get(f"{base}?w=103", timeout=30)
    names = {name_of(e) for e in transform_files(library)}
    assert "101x-inside.png" not in names
    assert {"100x-inside.png", "103x-inside.png"} <= names
    total = sum(e.size for e in transform_files(library))
    assert total <= settings.transform_cache_bytes(library)
    assert total == library.transforms.cache.total_bytes
    # A lower limit, applied at once; 0 keeps nothing, yet every request is answered.
    settings.put(library, settings.TRANSFORM_CACHE_BYTES, 0)
    library.transforms.cache.evict()
    assert transform_files(library) == []
    reply = requests.get(f"{base}?w=104", timeout=30)
    assert reply.status_code == 200 and reply.headers["Content-Length"] == str(len(reply.content))
    assert transform_files(library) == []


def _two_results(lib: Library) -> None:
    record = lib.add(io.BytesIO(image_bytes("PNG", (300, 300))), "r.png")
    server = BackgroundServer(lib, host="127.0.0.1", port=0, token="t").start()
    try:
        for w in (10, 20):
            assert requests.get(f"{server.base_url}/i/{record.id}.png?w={w}", timeout=30).ok
    finally:
        server.stop()


def test_the_index_survives_a_restart(open_library: Callable[[], Library]) -> None:
    with open_library() as lib:
        _two_results(lib)
        made = lib.transforms.cache.total_bytes
    with open_library() as lib:
        kept = transform_files(lib)
        assert [name_of(e) for e in kept] == ["10x-inside.png", "20x-inside.png"]
        assert lib.transforms.cache.total_bytes == sum(e.size for e in kept) == made


@pytest.mark.folder_only  # a folder store writes through temporaries; an S3 PUT is whole
def test_a_write_cut_short_is_removed_at_the_next_start(library_path: Path) -> None:
    with Library.open(library_path) as lib:
        _two_results(lib)
        stray = lib.meta / "transforms" / ".tmp-cut-short"
        stray.write_bytes(b"half")  # as a crash mid-write leaves it
    with Library.open(library_path) as lib:
        assert lib.transforms.cache.total_bytes == sum(e.size for e in transform_files(lib))
        assert not stray.exists()


def test_results_leave_with_their_original(live_server: BackgroundServer, library: Library) -> None:
    """A delete moves the image to the trash, from where it can come back with the same
    links: its results stay until it is purged, and go then unless another image has the
    same bytes."""
    content = image_bytes("JPEG", (400, 300))
    first = library.add(io.BytesIO(content), "one.jpg")
    twin = library.add(io.BytesIO(content), "two.jpg", folder="copies")
    other = library.add(io.BytesIO(image_bytes("PNG", (50, 50))), "o.png")
    for record in (first, other):
        assert requests.get(f"{live_server.base_url}/i/{record.id}.webp?w=99", timeout=30).ok
    assert transform_files(library, first.sha256)
    api = live_server.base_url
    auth = {"Authorization": "Bearer test-token-7a1f0c9e"}
    for record in (first, twin):
        reply = requests.delete(f"{api}/v3/images/{record.id}", headers=auth, timeout=30)
        assert reply.status_code == 204
    assert transform_files(library, first.sha256)  # in the trash: restorable, results kept
    purge = requests.delete(f"{api}/v3/trash/{first.id}", headers=auth, timeout=30)
    assert purge.status_code == 204
    assert transform_files(library, first.sha256)  # the twin (in the trash): same bytes
    assert requests.delete(f"{api}/v3/trash/{twin.id}", headers=auth, timeout=30).ok
    assert transform_files(library, first.sha256) == []
    assert [sha_of(e) for e in transform_files(library)] == [other.sha256]
    assert library.transforms.cache.total_bytes == transform_files(library)[0].size


def test_identical_concurrent_requests_are_computed_once(
    live_server: BackgroundServer, library: Library
) -> None:
    record = library.add(io.BytesIO(image_bytes("JPEG", (1200, 900))), "same.jpg")
    url = f"{live_server.base_url}/i/{record.id}.webp?w=321"
    n = 6
    with ThreadPoolExecutor(n) as pool, _budget_held():
        futures = [pool.submit(requests.get, url, timeout=60) for _ in range(n)]
        # One is computing (in its slot, waiting for pixels), the others wait for it.
        assert library.transforms.gate.wait_until(lambda running, _: running == 1, WAIT)
        assert library.transforms.wait_until(lambda _, followers: followers == n - 1, WAIT)
    replies = [f.result() for f in futures]
    assert {r.status_code for r in replies} == {200}
    assert len({r.content for r in replies}) == 1
    assert len({r.headers["ETag"] for r in replies}) == 1
    assert library.transforms.computations == 1
    assert len(transform_files(library)) == 1


def test_busy_with_retry_after_when_slots_and_queue_are_full(
    live_server: BackgroundServer, library: Library
) -> None:
    library.transforms.set_limits(slots=1, queue=2)
    record = library.add(io.BytesIO(image_bytes("JPEG", (800, 600))), "busy.jpg")
    base = f"{live_server.base_url}/i/{record.id}.webp"
    gate = library.transforms.gate
    with ThreadPoolExecutor(3) as pool:
        with _budget_held():
            running = pool.submit(requests.get, f"{base}?w=100", timeout=60)
            assert gate.wait_until(lambda r, _: r == 1, WAIT)
            queued = [pool.submit(requests.get, f"{base}?w={w}", timeout=60) for w in (101, 102)]
            assert gate.wait_until(lambda r, w: (r, w) == (1, 2), WAIT)
            refused = requests.get(f"{base}?w=103", timeout=60)
            head = requests.head(f"{base}?w=104", timeout=60)
            cached_original = requests.get(f"{live_server.base_url}/i/{record.id}", timeout=60)
        results = [running.result(), *(f.result() for f in queued)]
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "busy"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert refused.headers["Cache-Control"] == "no-store"
    assert (head.status_code, head.headers["Retry-After"], head.content) == (503, "2", b"")
    assert cached_original.status_code == 200  # originals never wait for transforms
    assert [r.status_code for r in results] == [200, 200, 200]
    assert library.transforms.computations == 3
    assert requests.get(f"{base}?w=103", timeout=60).status_code == 200  # free again


def test_a_slot_wait_ends_at_its_deadline() -> None:
    gate = SlotGate(slots=1, queue=1)
    done = threading.Event()

    def hold() -> None:
        with gate.slot(time.monotonic() + WAIT):
            done.wait(WAIT)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert gate.wait_until(lambda r, _: r == 1, WAIT)
        started = time.monotonic()
        with pytest.raises(Busy), gate.slot(started + 0.2):
            pass
        assert gate.waiting == 0
    finally:
        done.set()
        holder.join()


def test_cache_setting_is_kept_in_the_library(open_library: Callable[[], Library]) -> None:
    with open_library() as lib:
        assert settings.transform_cache_bytes(lib) == 1024**3
        settings.put(lib, settings.TRANSFORM_CACHE_BYTES, 5_000_000)
    with open_library() as lib:
        assert settings.transform_cache_bytes(lib) == 5_000_000
        with pytest.raises(InvalidInput):
            settings.put(lib, settings.TRANSFORM_CACHE_BYTES, -1)
