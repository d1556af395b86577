"""Every answer JSON and right, for what a hostile or careless client sends: deep JSON,
slash-merging redirects, If-Match, two file parts, bytes that are not UTF-8, a foreign
Host while on loopback, a 503 that says when to come back."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest
from flask import Flask

from imageshelf.app.library import Library
from imageshelf.app.library.decode_budget import DECODE_BUDGET
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.hostile_inputs import multipart
from tests.server.http_helpers import AUTH, Api, HttpApi

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

MULTIPART = {"Content-Type": "multipart/form-data; boundary=xXx"}


def test_deeply_nested_json_is_a_400(api: Api) -> None:
    image = api.upload_ok(image_bytes())
    for body in (b"[" * 50_000, b'{"a":' * 10_000):
        reply = api.request("PATCH", f"/v3/images/{image['id']}", data=body)
        assert reply.status == 400, reply.body
        assert reply.error_code == "invalid_input"


def test_slash_merging_redirect_is_json_and_names_a_path_only(flask_app: Flask) -> None:
    reply = flask_app.test_client().get("/v3//images", headers={**AUTH, "Host": "evil.example"})
    assert reply.status_code == 308
    assert reply.json == {"error": {"code": "moved", "message": reply.json["error"]["message"]}}
    assert reply.headers["Location"] == "/v3/images"


def test_redirect_never_points_at_the_request_host(live_server: BackgroundServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
    conn.request("GET", "/v3//images?page=2", headers={**AUTH, "Host": "localhost"})
    response = conn.getresponse()
    body = response.read()
    assert response.status == 308
    assert response.getheader("Content-Type", "").startswith("application/json"), body
    assert response.getheader("Location") == "/v3/images?page=2"
    conn.close()


@pytest.mark.parametrize("range_too", [False, True])
def test_if_match_star_matches_and_a_failed_precondition_is_json(api: Api, range_too: bool) -> None:
    data = image_bytes("PNG")
    image = api.upload_ok(data, "x.png")
    etag = api.get(f"/i/{image['id']}").headers["ETag"]
    extra = {"Range": "bytes=0-3"} if range_too else {}
    ok = 206 if range_too else 200
    assert api.get(f"/i/{image['id']}", headers={"If-Match": "*", **extra}).status == ok
    assert api.get(f"/i/{image['id']}", headers={"If-Match": etag, **extra}).status == ok
    for wrong in ('"nope"', f"W/{etag}"):  # a weak tag never matches If-Match
        reply = api.get(f"/i/{image['id']}", headers={"If-Match": wrong, **extra})
        assert reply.status == 412
        assert reply.error_code == "precondition_failed"
        assert data not in reply.body


def test_two_file_parts_are_a_400_and_nothing_is_kept(api: Api, library: Library) -> None:
    body = multipart(
        [(b"file", image_bytes("PNG"), b"a.png"), (b"file", image_bytes("GIF"), b"b.gif")]
    )
    reply = api.request("POST", "/v3/images", data=body, headers=MULTIPART)
    assert reply.status == 400, reply.body
    assert reply.error_code == "multiple_files"
    assert library.count() == 0
    assert list(library.tmp_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ([(b"folder", b"caf\xe9", None)], "invalid_folder"),
        ([(b"alt_text", b"\xff\xfe", None)], "invalid_alt_text"),
        ([(b"other", b"\xc3", None)], "invalid_encoding"),
        ([], "invalid_filename"),  # the file part's own filename below
    ],
)
def test_text_that_is_not_utf8_is_a_400_never_a_replacement_character(
    api: Api, library: Library, parts: list[tuple[bytes, bytes, bytes | None]], code: str
) -> None:
    filename = b"ph\xf6to.png" if not parts else b"photo.png"
    body = multipart([*parts, (b"file", image_bytes("PNG"), filename)])
    reply = api.request("POST", "/v3/images", data=body, headers=MULTIPART)
    assert reply.status == 400, reply.body
    assert reply.error_code == code
    assert library.count() == 0
    assert library.folders() == []
    assert list(library.tmp_dir.iterdir()) == []


def test_utf8_text_still_goes_through(api: Api) -> None:
    body = multipart(
        [
            (b"folder", "café".encode(), None),
            (b"alt_text", "\ufffd is fine when sent".encode(), None),
            (b"file", image_bytes("PNG"), "fötö.png".encode()),
        ]
    )
    reply = api.request("POST", "/v3/images", data=body, headers=MULTIPART)
    assert reply.status == 201, reply.body
    assert reply.json()["folder"] == "café"
    assert reply.json()["original_filename"] == "fötö.png"


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("localhost", 200),
        ("127.0.0.1:{port}", 200),
        ("[::1]:{port}", 200),
        ("LOCALHOST:{port}", 200),
        ("evil.example", 421),
        ("evil.example:{port}", 421),
        ("127.0.0.1.evil.example", 421),
        ("192.168.1.20:{port}", 421),
    ],
)
def test_foreign_host_is_misdirected_while_on_loopback(
    live_server: BackgroundServer, library: Library, host: str, status: int
) -> None:
    image = library.add(__import__("io").BytesIO(image_bytes()), "a.jpg")
    for path, headers in ((f"/i/{image.id}", {}), ("/v3/images", AUTH), ("/v3/openapi.json", {})):
        conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
        conn.request("GET", path, headers={**headers, "Host": host.format(port=live_server.port)})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status == status, (path, body)
        if status == 421:
            assert b'"misdirected_request"' in body
            assert response.getheader("Content-Type") == "application/json"


def test_any_host_is_answered_when_listening_beyond_loopback(library: Library) -> None:
    from imageshelf.server import create_app

    client = create_app(library, token="t" * 20, loopback_only=False).test_client()
    assert client.get("/v3/openapi.json", headers={"Host": "shelf.lan:8765"}).status_code == 200
    public = create_app(
        library, token="t" * 20, loopback_only=True, public_url="https://photos.example.org"
    ).test_client()
    assert public.get("/v3/openapi.json", headers={"Host": "photos.example.org"}).status_code == 200
    assert public.get("/v3/openapi.json", headers={"Host": "other.example"}).status_code == 421


def test_a_full_decode_budget_is_a_503_with_retry_after(
    live_server: BackgroundServer, library: Library, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("imageshelf.server.guards.DECODE_WAIT_SECONDS", 0.3)
    api = HttpApi(live_server.base_url)
    with DECODE_BUDGET.hold(DECODE_BUDGET.limit, timeout=5):
        reply = api.upload(image_bytes())
    assert reply.status == 503, reply.body
    assert reply.error_code == "busy"
    assert reply.headers["Retry-After"] == "2"
    assert library.count() == 0
    assert api.upload(image_bytes()).status == 201  # once the budget is free again
