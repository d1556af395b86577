"""``/i`` of a library on S3, through a real waitress server on loopback: the original
streamed from the store with the contract's headers, Range and ETag; the thumbnail and a
transform from derived objects. The server opens no path of its own: all of it comes
through the core."""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Iterator
from email.message import Message
from urllib.error import HTTPError

import pytest

from imageshelf.app.library import Library
from imageshelf.app.library.storage_s3 import S3Storage
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes

TOKEN = "s3-test-token"


@pytest.fixture
def server(s3_library: Library) -> Iterator[BackgroundServer]:
    live = BackgroundServer(s3_library, host="127.0.0.1", port=0, token=TOKEN).start()
    yield live
    live.stop()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """Status, headers (looked up case-insensitively) and body of a GET."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def test_originals_thumbnails_and_transforms_come_from_the_store(
    server: BackgroundServer, s3_library: Library, s3_storage: S3Storage
) -> None:
    data = image_bytes("JPEG", (640, 480))
    record = s3_library.add(io.BytesIO(data), "photo.jpg", folder="shots")
    base = f"{server.base_url}/i/{record.id}"
    status, headers, body = _get(base)
    assert (status, body) == (200, data)
    assert headers["Content-Length"] == str(len(data))
    assert headers["Content-Type"] == "image/jpeg"
    etag = headers["ETag"]
    status, headers, body = _get(base, {"Range": "bytes=100-199"})
    assert (status, body) == (206, data[100:200])
    assert headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    status, _, body = _get(base, {"Range": "bytes=-50"})
    assert (status, body) == (206, data[-50:])
    assert _get(base, {"If-None-Match": etag})[0] == 304
    status, headers, thumb = _get(base + "?variant=thumbnail")
    assert status == 200 and thumb[:2] == b"\xff\xd8"
    status, headers, small = _get(base + ".webp?w=64")
    assert status == 200 and headers["Content-Type"] == "image/webp" and small[:4] == b"RIFF"
    kept = {k for k, _s, _m in s3_storage.list_objects("derived/transforms/")}
    assert len(kept) == 1  # the result is kept in the store, not on this machine
    assert _get(base + ".webp?w=64")[2] == small  # and served from there
    # A move changes no byte and no link: the same id serves the same bytes.
    s3_library.move_folder("shots", "archive")
    assert _get(base)[2] == data


def test_a_location_free_copy_is_made_once_and_kept_in_the_store(
    server: BackgroundServer, s3_library: Library, s3_storage: S3Storage
) -> None:
    from tests.server.test_http_location import exiftool, gps_tags, located

    data = located("JPEG")
    record = s3_library.add(io.BytesIO(data), "tower.jpg")
    status, _headers, body = _get(f"{server.base_url}/i/{record.id}")
    assert status == 200 and len(body) == len(data) and body != data
    assert gps_tags(exiftool(body)) == {}  # served without its location
    kept = [k for k, _s, _m in s3_storage.list_objects("derived/transforms/")]
    assert len(kept) == 1 and "location-removed" in kept[0]
    assert _get(f"{server.base_url}/i/{record.id}", {"Range": "bytes=5-54"})[2] == body[5:55]
    with s3_storage.open(s3_library.core.key_of(record)) as fp:
        assert fp.read() == data  # the stored original is never changed
