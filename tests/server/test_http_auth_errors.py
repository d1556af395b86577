"""Bearer auth on every /v3 route, and JSON errors for every status on every path."""

from __future__ import annotations

import http.client
import socket

import pytest

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.server.http_helpers import TOKEN, Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

SOME_ID = "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"
V3_ROUTES = [
    ("GET", "/v3/images"),
    ("POST", "/v3/images"),
    ("GET", "/v3/images/folders"),
    ("GET", f"/v3/images/{SOME_ID}"),
    ("PATCH", f"/v3/images/{SOME_ID}"),
    ("DELETE", f"/v3/images/{SOME_ID}"),
    ("GET", "/v3/nothing-here"),
    ("PUT", "/v3/images"),
]


@pytest.mark.parametrize(("method", "path"), V3_ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN],
)
def test_every_v3_route_needs_the_token(
    api: Api, library: Library, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = api.request(method, path, auth=False, headers=headers)
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == "Bearer"
    assert reply.error_code in ("unauthorized", "invalid_token")


def test_the_right_token_in_any_scheme_case_is_accepted(api: Api) -> None:
    for scheme in ("Bearer", "bearer", "BEARER"):
        reply = api.get("/v3/images", auth=False, headers={"Authorization": f"{scheme} {TOKEN}"})
        assert reply.status == 200


def test_nothing_is_written_without_the_token(api: Api, library: Library) -> None:
    reply = api.upload(image_bytes(), auth=False)
    assert reply.status == 401
    assert library.count() == 0


def test_openapi_document_is_public(api: Api) -> None:
    reply = api.get("/v3/openapi.json", auth=False)
    assert reply.status == 200
    assert reply.json()["openapi"].startswith("3.1")


def test_unknown_routes_and_wrong_methods_are_json(api: Api) -> None:
    for path in ("/", "/nothing", "/v3", "/i/", "/v3/images/folders/x"):
        reply = api.get(path)
        assert (reply.status, reply.error_code) == (404, "not_found"), path
    for method, path in (
        ("PUT", "/v3/images"),
        ("POST", "/v3/images/folders"),
        ("POST", f"/v3/images/{SOME_ID}"),
        ("PUT", "/v3/openapi.json"),
    ):
        reply = api.request(method, path)
        assert (reply.status, reply.error_code) == (405, "method_not_allowed"), path
        assert reply.headers["Allow"]


def test_trailing_slash_on_the_collection(api: Api) -> None:
    assert api.get("/v3/images/").status == 200


def test_head_of_an_api_route_has_no_body(api: Api) -> None:
    reply = api.request("HEAD", "/v3/images")
    assert reply.status == 200
    assert reply.body == b""


def _raw_exchange(server: BackgroundServer, payload: bytes) -> tuple[int, dict[str, str], bytes]:
    """Sends bytes as they are (no client library tidying them up) and reads the reply."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(payload)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, dict(response.getheaders()), response.read()


@pytest.mark.parametrize(
    "payload",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /v3/images HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"GET /v3/images HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"GET /v3/images HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 300_000 + b"\r\n\r\n",
    ],
    ids=["not-http", "bad-length", "bad-encoding", "huge-header"],
)
def test_malformed_http_gets_a_json_error_from_waitress(
    live_server: BackgroundServer, payload: bytes
) -> None:
    status, headers, body = _raw_exchange(live_server, payload)
    assert 400 <= status < 500 or status == 501
    assert headers["Content-Type"] == "application/json"
    assert b'"error"' in body and b'"code"' in body


def test_body_over_the_limit_is_refused_before_being_read(live_server: BackgroundServer) -> None:
    head = (
        f"POST /v3/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        "Content-Length: 1073741824\r\n\r\n"
    ).encode()
    # Only the headers are sent: the answer comes without the gigabyte ever arriving.
    status, headers, body = _raw_exchange(live_server, head)
    assert status == 413
    assert headers["Content-Type"] == "application/json"
    assert b'"too_large"' in body


def test_oversized_body_through_flask_is_json_413(api: Api) -> None:
    big = b"x" * (11 * 1024 * 1024)
    reply = api.upload(big)
    assert (reply.status, reply.error_code) == (413, "too_large")


def test_unexpected_failure_is_a_json_500_without_a_traceback(library: Library) -> None:
    from imageshelf.server import create_app

    app = create_app(library, token=TOKEN)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("internal detail that must not leak")

    reply = app.test_client().get("/boom")
    assert reply.status_code == 500
    assert reply.get_json() == {
        "error": {
            "code": "internal_error",
            "message": "Something went wrong inside the server; it has been logged.",
        }
    }
    assert b"internal detail" not in reply.data


def test_storage_errors_are_507(api: Api, library: Library) -> None:
    made = api.upload_ok(image_bytes())
    # The library's folder for uploads in flight replaced by a plain file: the disk
    # refuses every new upload (as it would when full or read-only, which root ignores).
    library.tmp_dir.rmdir()
    library.tmp_dir.write_bytes(b"in the way")
    try:
        upload = api.upload(image_bytes(), folder="new")
        assert (upload.status, upload.error_code) == (507, "storage_error")
    finally:
        library.tmp_dir.unlink()
        library.tmp_dir.mkdir()
    assert library.count() == 1
    assert not (library.root / "new").exists()
    assert api.get(f"/i/{made['id']}").status == 200
