"""The remembered lane (server/proxy_lane.py): the commonest /i answers skip the layers
below it, answer exactly as the ordinary way does, and still refuse a foreign Host."""

from __future__ import annotations

import http.client
import io
from collections.abc import Iterable
from typing import Any

from flask import Flask

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer, create_app
from imageshelf.server.proxy_lane import RememberedLane
from tests.conftest import image_bytes
from tests.server.http_helpers import TOKEN

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True


class _Counting:
    """A WSGI layer counting the requests that reach it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        return self.app(environ, start_response)  # type: ignore[no-any-return]


def _below_lane(app: Flask) -> _Counting:
    lane = app.wsgi_app
    assert isinstance(lane, RememberedLane)
    counting = _Counting(lane.app)
    lane.app = counting
    return counting


def _answer(client: Any, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    method = headers.pop("method", "GET")
    reply = client.open(path, method=method, headers=headers)
    answer = reply.status_code, dict(reply.headers), reply.get_data()
    reply.close()
    return answer


def test_remembered_answers_skip_the_layers_and_equal_the_ordinary_ones(
    library: Library,
) -> None:
    record = library.add(io.BytesIO(image_bytes("JPEG", (300, 200))), "a.jpg")
    app = create_app(library, token=TOKEN, loopback_only=True)
    below = _below_lane(app)
    ordinary = create_app(library, token=TOKEN, proxy_fast_path=False).test_client()
    lane = app.test_client()
    for path in (f"/i/{record.id}", f"/i/{record.id}?variant=thumbnail"):
        first = _answer(lane, path)
        assert first[0] == 200
        reached = below.calls
        etag = first[1]["ETag"]
        for headers in ({}, {"If-None-Match": etag}, {"method": "HEAD"}):
            got = _answer(lane, path, **headers)
            assert got == _answer(ordinary, path, **headers), headers
            assert got[0] in (200, 304)
        assert below.calls == reached  # all three answered by the lane
        # What the lane leaves alone goes down, and is answered as before.
        assert _answer(lane, path, Range="bytes=0-9")[0] == 206
        assert _answer(lane, path, **{"If-None-Match": f'"x", {etag}'})[0] == 304
        pinned = _answer(lane, path + ("&" if "?" in path else "?") + f"v={etag[1:17]}")
        assert pinned[0] == 200
        assert "immutable" in pinned[1]["Cache-Control"]
        assert below.calls == reached + 3


def test_a_deleted_image_is_not_answered_from_memory(library: Library) -> None:
    record = library.add(io.BytesIO(image_bytes("PNG", (40, 40), (1, 2, 3))), "a.png")
    client = create_app(library, token=TOKEN).test_client()
    for path in (f"/i/{record.id}", f"/i/{record.id}?variant=thumbnail"):
        assert _answer(client, path)[0] == 200
    etag = _answer(client, f"/i/{record.id}")[1]["ETag"]
    library.delete(record.id)
    for path in (f"/i/{record.id}", f"/i/{record.id}?variant=thumbnail"):
        assert _answer(client, path)[0] == 410
        assert _answer(client, path, **{"If-None-Match": etag})[0] == 410


def test_a_foreign_host_is_refused_even_when_remembered(library: Library) -> None:
    record = library.add(io.BytesIO(image_bytes()), "a.jpg")
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    try:
        for path in (f"/i/{record.id}", f"/i/{record.id}?variant=thumbnail"):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", path)
            first = conn.getresponse()
            first.read()
            assert first.status == 200
            etag = first.getheader("ETag")
            for headers in ({}, {"If-None-Match": etag}):
                conn.request("GET", path, headers={**headers, "Host": "evil.example"})
                reply = conn.getresponse()
                body = reply.read()
                assert reply.status == 421, body
                assert b'"misdirected_request"' in body
            conn.close()
    finally:
        server.stop()
