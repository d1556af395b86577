"""Answers made on the server's socket loop (server/connections.py ``answer_here``,
server/proxy_lane.py ``prepare``): a remembered original, thumbnail or transform result,
or its 304, is answered by the loop thread itself, exactly as a thread of the pool
answers it; anything that may need to wait (a first request, a Range, a file gone, an
object store's open, the access log) still goes to the pool and is answered as before.
All through a live server; ``RememberedLane.answered_on_loop`` counts the loop's."""

from __future__ import annotations

import http.client
import io
import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from imageshelf.app.library import Event, ImageRecord, Library
from imageshelf.server import BackgroundServer
from imageshelf.server.access_log import AccessLog
from imageshelf.server.proxy_lane import RememberedLane
from tests.conftest import image_bytes
from tests.server.http_helpers import TOKEN
from tests.server.test_event_loop import read_answer

# The contract on both libraries: a folder, and a team library on a bucket (whose opens
# may wait: its 200s are the pool's, its 304s the loop's).
BOTH_BACKENDS = True

Answer = tuple[int, dict[str, str], bytes]


@pytest.fixture
def server(library: Library) -> Iterator[BackgroundServer]:
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    yield server
    server.stop(timeout=5)


def _added(library: Library, content: bytes, name: str) -> ImageRecord:
    """Adds an image and waits for its ``added`` event to reach the listeners (on a team
    library it comes back through PostgreSQL, later): the proxy forgets what it
    remembers of an id on every event of it, so only then does it keep what it looks up."""
    seen: list[str] = []
    arrived = threading.Condition()

    def listener(event: Event) -> None:
        with arrived:
            if event.image_id is not None:
                seen.append(event.image_id)
            arrived.notify_all()

    unsubscribe = library.subscribe(listener)  # after the server's: called after it
    try:
        record = library.add(io.BytesIO(content), name)
        with arrived:
            assert arrived.wait_for(lambda: record.id in seen, timeout=30)
    finally:
        unsubscribe()
    return record


def _lane(server: BackgroundServer) -> RememberedLane:
    lane = server.app.wsgi_app
    while not isinstance(lane, RememberedLane):
        lane = lane.app  # type: ignore[attr-defined]
    return lane


def _fetch(server: BackgroundServer, path: str, **headers: str) -> Answer:
    """One request on a connection of its own: on a kept-alive connection, the request
    after one a pool thread answered may arrive before that thread has quite finished
    with the connection, and is then the pool's too (waitress's order of requests)."""
    method = headers.pop("method", "GET")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, headers=headers)
        reply = conn.getresponse()
        body = reply.read()
    finally:
        conn.close()
    kept = {k.lower(): v for k, v in reply.getheaders() if k.lower() != "date"}
    return reply.status, kept, body


def test_remembered_answers_come_from_the_loop_as_the_pool_made_them(
    library: Library,
    server: BackgroundServer,
    backend: str,
) -> None:
    record = _added(library, image_bytes("JPEG", (300, 200)), "a.jpg")
    lane = _lane(server)
    local = backend == "folder"
    for path in (f"/i/{record.id}", f"/i/{record.id}?variant=thumbnail"):
        before = lane.answered_on_loop
        first = _fetch(server, path)  # not remembered yet: the pool looks it up
        assert first[0] == 200
        assert lane.answered_on_loop == before
        etag = first[1]["etag"]
        assert _fetch(server, path) == first
        head = _fetch(server, path, method="HEAD")
        assert head == (200, first[1], b"")
        not_modified = _fetch(server, path, **{"If-None-Match": etag})
        assert not_modified[0] == 304
        assert not_modified[1]["etag"] == etag
        assert not_modified[2] == b""
        # A 304 never opens anything: the loop's on any library. A 200 only where the
        # file is a local file's open.
        assert lane.answered_on_loop == before + (3 if local else 1)
    # The pool's 304 (a list of tags, decided by werkzeug) equals the loop's.
    path = f"/i/{record.id}"
    etag = _fetch(server, path)[1]["etag"]
    listed = _fetch(server, path, **{"If-None-Match": f'"other", {etag}'})
    assert listed == _fetch(server, path, **{"If-None-Match": etag})


@pytest.mark.folder_only
def test_a_cached_transform_comes_from_the_loop(library: Library, server: BackgroundServer) -> None:
    record = library.add(io.BytesIO(image_bytes("JPEG", (300, 200))), "a.jpg")
    lane = _lane(server)
    path = f"/i/{record.id}.webp?w=64"
    made = _fetch(server, path)
    assert made[0] == 200
    assert made[1]["content-type"] == "image/webp"
    before = lane.answered_on_loop
    assert _fetch(server, path) == made
    assert _fetch(server, path, method="HEAD") == (200, made[1], b"")
    not_modified = _fetch(server, path, **{"If-None-Match": made[1]["etag"]})
    assert not_modified[0] == 304
    assert lane.answered_on_loop == before + 3
    # Evicted (here: the whole cache cleared): the loop cannot answer it; the pool
    # makes it again.
    library.core.transforms.cache.clear()
    again = _fetch(server, path)
    assert again[0] == 200
    assert again[1]["etag"] == made[1]["etag"]
    assert lane.answered_on_loop == before + 3
    # Never asked before: the pool.
    other = _fetch(server, f"/i/{record.id}.webp?w=65")
    assert other[0] == 200
    assert lane.answered_on_loop == before + 3


@pytest.mark.folder_only
def test_what_may_wait_goes_to_the_pool_and_is_answered_as_before(
    library: Library, server: BackgroundServer
) -> None:
    record = library.add(io.BytesIO(image_bytes("PNG", (40, 40), (1, 2, 3))), "a.png")
    lane = _lane(server)
    path = f"/i/{record.id}"
    first = _fetch(server, path)
    etag = first[1]["etag"]
    before = lane.answered_on_loop
    ranged = _fetch(server, path, Range="bytes=0-9")
    assert ranged[0] == 206
    assert ranged[2] == first[2][:10]
    pinned = _fetch(server, f"{path}?v={etag[1:17]}")
    assert pinned[0] == 200
    assert "immutable" in pinned[1]["cache-control"]
    assert _fetch(server, path, **{"If-None-Match": '"another"'})[0] == 200
    assert lane.answered_on_loop == before
    # The file gone behind the library's back: the loop's open fails, so the pool looks
    # for it (after any move in flight) and says it is missing.
    library.core.path_of(record.folder, record.filename).unlink()
    missing = _fetch(server, path)
    assert missing[0] == 404
    assert b"missing" in missing[2]
    assert lane.answered_on_loop == before
    # Deleted through the library: forgotten at once, the tombstone's 410.
    kept = library.add(io.BytesIO(image_bytes("PNG", (40, 40), (4, 5, 6))), "b.png")
    assert _fetch(server, f"/i/{kept.id}")[0] == 200
    assert _fetch(server, f"/i/{kept.id}")[0] == 200
    assert lane.answered_on_loop == before + 1
    library.delete(kept.id)
    assert _fetch(server, f"/i/{kept.id}")[0] == 410
    assert lane.answered_on_loop == before + 1


@pytest.mark.folder_only
def test_pipelined_requests_are_answered_in_order_and_close_is_kept(
    library: Library, server: BackgroundServer
) -> None:
    records = [
        library.add(io.BytesIO(image_bytes("PNG", (30 + n, 20), (n, 9, 9))), f"{n}.png")
        for n in range(3)
    ]
    bodies = {r.id: _fetch(server, f"/i/{r.id}")[2] for r in records}  # remembered now
    lane = _lane(server)
    before = lane.answered_on_loop
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    try:
        order = [records[0].id, records[1].id, records[2].id, records[0].id]
        sock.sendall(
            b"".join(f"GET /i/{i} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() for i in order)
        )
        stream = sock.makefile("rb")
        assert [read_answer(stream) for _ in order] == [(200, bodies[i]) for i in order]
        assert lane.answered_on_loop > before  # the first at least; the rest the pool's
        # Connection: close on an answer the loop makes: sent whole, then closed.
        sock.sendall(
            f"GET /i/{records[1].id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        assert read_answer(stream) == (200, bodies[records[1].id])
        assert stream.read() == b""
    finally:
        sock.close()


@pytest.mark.folder_only
def test_the_location_free_copy_comes_from_the_loop(
    library: Library, server: BackgroundServer
) -> None:
    from tests.server.test_http_location import located

    record = library.add(io.BytesIO(located("JPEG")), "located.jpg")
    lane = _lane(server)
    path = f"/i/{record.id}"
    first = _fetch(server, path)  # the copy without GPS is made here
    assert first[0] == 200
    assert first[2] != library.core.path_of(record.folder, record.filename).read_bytes()
    before = lane.answered_on_loop
    assert _fetch(server, path) == first
    assert lane.answered_on_loop == before + 1
    # Evicted: the pool makes it again, the same bytes.
    library.core.transforms.cache.clear()
    assert _fetch(server, path) == first
    assert lane.answered_on_loop == before + 1


@pytest.mark.folder_only
def test_with_the_access_log_every_request_is_the_pools_and_logged(
    library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    record = library.add(io.BytesIO(image_bytes()), "a.jpg")
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN)
    server.app.wsgi_app = AccessLog(server.app.wsgi_app)  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO, logger="imageshelf.access"):
        server.start()
        try:
            for _ in range(3):
                assert _fetch(server, f"/i/{record.id}")[0] == 200
        finally:
            server.stop(timeout=5)  # every request finished, its line written
    lines = [r.getMessage() for r in caplog.records if r.name == "imageshelf.access"]
    assert len(lines) == 3
    assert all(f"GET /i/{record.id} 200" in line for line in lines)
    assert _lane(server).answered_on_loop == 0
