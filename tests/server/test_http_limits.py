"""The 10 MiB boundary, and many uploads at once: none lost, every byte served back."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import requests

from imageshelf.app.library import Library, rules
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.server.backend_helpers import folder_paths
from tests.server.http_helpers import AUTH, Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True


def padded_jpeg(total: int) -> bytes:
    """A real JPEG padded after its end marker to exactly ``total`` bytes."""
    head = image_bytes("JPEG", (32, 32))
    return head + b"\0" * (total - len(head))


def test_exactly_10_mib_is_accepted_and_one_byte_more_is_413(api: Api, library: Library) -> None:
    exact = padded_jpeg(rules.MAX_UPLOAD_BYTES)
    ok = api.upload(exact, "big.jpg", alt_text="a" * 2000, folder="x" * 64)
    assert ok.status == 201, ok.body
    assert ok.json()["size"] == 10 * 1024 * 1024
    assert api.get(f"/i/{ok.json()['id']}").body == exact
    over = api.upload(padded_jpeg(rules.MAX_UPLOAD_BYTES + 1), "bigger.jpg", folder="other")
    assert (over.status, over.error_code) == (413, "too_large")
    assert library.count() == 1
    assert "other" not in folder_paths(library)
    assert list(library.tmp_dir.iterdir()) == []


def test_sixteen_parallel_uploads_none_lost(
    live_server: BackgroundServer, library: Library
) -> None:
    contents = [
        image_bytes("PNG" if i % 2 else "JPEG", (40 + i, 30 + i), (i * 15, 100, 200 - i)) + b""
        for i in range(16)
    ]

    def upload(i: int) -> dict:
        reply = requests.post(
            f"{live_server.base_url}/v3/images",
            headers=AUTH,
            files={"file": (f"same-name.{'png' if i % 2 else 'jpg'}", contents[i])},
            data={"folder": "batch", "alt_text": f"image {i}"},
            timeout=60,
        )
        assert reply.status_code == 201, reply.text
        return reply.json()

    with ThreadPoolExecutor(16) as pool:
        made = list(pool.map(upload, range(16)))
    assert len({m["id"] for m in made}) == 16
    assert len({m["filename"] for m in made}) == 16  # unique names inside the folder
    assert library.count() == 16
    for i, m in enumerate(made):
        served = requests.get(m["url"], timeout=30)
        assert served.status_code == 200
        assert hashlib.sha256(served.content).digest() == hashlib.sha256(contents[i]).digest()
        assert m["alt_text"] == f"image {i}"


def _chunked_upload(server: BackgroundServer, content: bytes) -> tuple[int, bytes]:
    """An upload with ``Transfer-Encoding: chunked`` (no Content-Length to refuse early)."""
    import http.client

    boundary = "chunked-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="c.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    pieces = (body[i : i + 1024 * 1024] for i in range(0, len(body), 1024 * 1024))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request(
            "POST",
            "/v3/images",
            body=pieces,
            headers={**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            encode_chunked=True,
        )
        reply = conn.getresponse()
        return reply.status, reply.read()
    except (BrokenPipeError, ConnectionResetError):
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def test_chunked_uploads_obey_the_same_limits(
    live_server: BackgroundServer, library: Library
) -> None:
    status, body = _chunked_upload(live_server, padded_jpeg(2 * 1024 * 1024))
    assert status == 201, body
    status, body = _chunked_upload(live_server, padded_jpeg(rules.MAX_UPLOAD_BYTES + 1))
    assert status == 413
    assert b'"too_large"' in body
    status, body = _chunked_upload(live_server, padded_jpeg(rules.MAX_UPLOAD_BYTES * 3))
    assert status == 413
    assert b'"too_large"' in body
    assert library.count() == 1
