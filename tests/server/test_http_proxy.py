"""The public proxy /i/{id}: bytes, headers, ETags, 304, HEAD, Range, thumbnails, 404/410 —
through the WSGI fast path, through the Flask blueprint, and over real waitress."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer, create_app
from tests.conftest import image_bytes
from tests.server.http_helpers import TOKEN, Api, FlaskApi, HttpApi
from tests.server.library_files import remove_original_behind_its_back

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

# The bare link is revalidated (its bytes can change); ?v= pins it (test_http_alt_text.py).
REVALIDATE = "public, no-cache"
UNKNOWN = "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"


@pytest.fixture(params=["fast-path", "blueprint", "waitress"])
def api(request: pytest.FixtureRequest, library: Library) -> Iterator[Api]:
    if request.param == "waitress":
        server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
        try:
            yield HttpApi(server.base_url)
        finally:
            server.stop()
        return
    fast = request.param == "fast-path"
    yield FlaskApi(create_app(library, token=TOKEN, proxy_fast_path=fast).test_client())


def _public_headers_ok(headers: dict[str, str] | object) -> None:
    assert headers["Access-Control-Allow-Origin"] == "*"  # type: ignore[index]
    assert headers["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]


def test_original_bytes_and_headers(api: Api) -> None:
    content = image_bytes("WEBP", (90, 60))
    made = api.upload_ok(content, "pic.webp")
    reply = api.get(f"/i/{made['id']}", auth=False)
    assert reply.status == 200
    assert reply.body == content
    assert reply.headers["Content-Type"] == "image/webp"
    assert reply.headers["Content-Length"] == str(len(content))
    assert reply.headers["Cache-Control"] == REVALIDATE
    assert reply.headers["Accept-Ranges"] == "bytes"
    etag = reply.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    _public_headers_ok(reply.headers)


def test_same_bytes_same_etag_different_bytes_different_etag(api: Api) -> None:
    content = image_bytes("PNG", (40, 40), (1, 2, 3))
    first = api.upload_ok(content, "a.png")
    second = api.upload_ok(content, "b.png", folder="copies")
    other = api.upload_ok(image_bytes("PNG", (40, 40), (9, 9, 9)), "c.png")
    assert first["id"] != second["id"]
    etags = [api.get(f"/i/{m['id']}").headers["ETag"] for m in (first, second, other)]
    assert etags[0] == etags[1] != etags[2]
    again = api.get(f"/i/{first['id']}").headers["ETag"]
    assert again == etags[0]


def test_if_none_match_is_304_without_body(api: Api) -> None:
    made = api.upload_ok(image_bytes())
    url = f"/i/{made['id']}"
    etag = api.get(url).headers["ETag"]
    for header in (etag, f'"nope", {etag}', "*"):
        reply = api.get(url, headers={"If-None-Match": header})
        assert reply.status == 304
        assert reply.body == b""
        assert reply.headers["ETag"] == etag
    assert api.get(url, headers={"If-None-Match": '"other"'}).status == 200


def test_head_has_the_same_headers_and_no_body(api: Api) -> None:
    made = api.upload_ok(image_bytes("GIF", frames=3), "anim.gif")
    url = f"/i/{made['id']}"
    full = api.get(url)
    head = api.request("HEAD", url, auth=False)
    assert head.status == 200
    assert head.body == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Cache-Control", "Accept-Ranges"):
        assert head.headers[name] == full.headers[name]
    _public_headers_ok(head.headers)
    assert api.request("HEAD", f"/i/{UNKNOWN}").status == 404


def test_range_requests(api: Api) -> None:
    content = image_bytes("PNG", (200, 200), (10, 200, 30))
    made = api.upload_ok(content)
    url = f"/i/{made['id']}"
    part = api.get(url, headers={"Range": "bytes=10-29"})
    assert part.status == 206
    assert part.body == content[10:30]
    assert part.headers["Content-Range"] == f"bytes 10-29/{len(content)}"
    assert part.headers["Content-Length"] == "20"
    tail = api.get(url, headers={"Range": "bytes=-5"})
    assert (tail.status, tail.body) == (206, content[-5:])
    beyond = api.get(url, headers={"Range": f"bytes={len(content) + 10}-"})
    assert beyond.status == 416
    assert beyond.error_code == "range_not_satisfiable"
    assert beyond.headers["Content-Range"] == f"bytes */{len(content)}"
    _public_headers_ok(beyond.headers)


def test_thumbnail_variant(api: Api) -> None:
    opaque = api.upload_ok(image_bytes("JPEG", (1600, 800)), "wide.jpg")
    clear = api.upload_ok(image_bytes("PNG", (300, 900), (0, 0, 0, 0), mode="RGBA"), "a.png")
    small = api.upload_ok(image_bytes("PNG", (50, 40)), "small.png")
    anim = api.upload_ok(image_bytes("GIF", (64, 64), frames=4), "anim.gif")
    sizes = {}
    for made, ctype in ((opaque, "image/jpeg"), (clear, "image/png"), (small, "image/jpeg")):
        reply = api.get(f"/i/{made['id']}", query={"variant": "thumbnail"}, auth=False)
        assert reply.status == 200
        assert reply.headers["Content-Type"] == ctype
        assert reply.headers["Cache-Control"] == REVALIDATE
        original = api.get(f"/i/{made['id']}")
        assert reply.headers["ETag"] != original.headers["ETag"]
        again = api.get(
            f"/i/{made['id']}",
            query={"variant": "thumbnail"},
            headers={"If-None-Match": reply.headers["ETag"]},
        )
        assert again.status == 304
        sizes[made["id"]] = Image.open(io.BytesIO(reply.body)).size
    assert sizes[opaque["id"]] == (512, 256)
    assert sizes[clear["id"]] == (171, 512)
    assert sizes[small["id"]] == (50, 40)  # never enlarged
    thumb = api.get(f"/i/{anim['id']}", query={"variant": "thumbnail"})
    assert getattr(Image.open(io.BytesIO(thumb.body)), "n_frames", 1) == 1


def test_thumbnail_is_rebuilt_when_the_cache_is_deleted(api: Api, library: Library) -> None:
    made = api.upload_ok(image_bytes("JPEG", (800, 600)))
    first = api.get(f"/i/{made['id']}", query={"variant": "thumbnail"})
    assert any(library.core.derived.list("thumbs/"))
    library.core.derived.remove_prefix("thumbs/")
    library.thumbnails._known.clear()
    rebuilt = api.get(f"/i/{made['id']}", query={"variant": "thumbnail"})
    assert rebuilt.status == 200
    assert Image.open(io.BytesIO(rebuilt.body)).size == Image.open(io.BytesIO(first.body)).size


@pytest.mark.parametrize("variant", ["", "original", "THUMBNAIL", "large", "thumbnail "])
def test_other_variants_are_400(api: Api, variant: str) -> None:
    made = api.upload_ok(image_bytes())
    reply = api.get(f"/i/{made['id']}", query={"variant": variant})
    assert (reply.status, reply.error_code) == (400, "invalid_variant")
    _public_headers_ok(reply.headers)


def test_other_query_parameters_are_refused(api: Api) -> None:
    # Part 2 ("Transforms on the proxy"): an unknown parameter is 400 invalid_transform.
    made = api.upload_ok(image_bytes())
    for query in ({"utm": "2"}, {"variant": "thumbnail", "utm": "2"}):
        reply = api.get(f"/i/{made['id']}", query=query)
        assert (reply.status, reply.error_code) == (400, "invalid_transform")
        _public_headers_ok(reply.headers)


def test_unknown_and_deleted(api: Api) -> None:
    for path in (f"/i/{UNKNOWN}", "/i/whatever", f"/i/{UNKNOWN}?variant=thumbnail"):
        reply = api.get(path, auth=False)
        assert (reply.status, reply.error_code) == (404, "not_found")
        _public_headers_ok(reply.headers)
    made = api.upload_ok(image_bytes())
    api.request("DELETE", f"/v3/images/{made['id']}")
    for query in (None, {"variant": "thumbnail"}):
        gone = api.get(f"/i/{made['id']}", query=query, auth=False)
        assert (gone.status, gone.error_code) == (410, "gone")
        _public_headers_ok(gone.headers)


def test_file_removed_behind_the_librarys_back_is_404(api: Api, library: Library) -> None:
    made = api.upload_ok(image_bytes(), "vanishing.jpg")
    remove_original_behind_its_back(library, made["id"])
    reply = api.get(f"/i/{made['id']}")
    assert reply.status in (404, 410)
    reply.error_code  # noqa: B018 -- asserts the JSON error shape


def test_proxy_needs_no_auth_and_refuses_other_methods(api: Api) -> None:
    made = api.upload_ok(image_bytes())
    assert api.get(f"/i/{made['id']}", auth=False).status == 200
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        reply = api.request(method, f"/i/{made['id']}", auth=False)
        assert (reply.status, reply.error_code) == (405, "method_not_allowed")
        assert "GET" in reply.headers["Allow"]
    assert api.get(f"/i/{made['id']}/extra").status == 404


def _moved(api: Api, content: bytes) -> tuple[str, str]:
    """Uploads ``content`` to folder "before", has /i remember it, moves it to "after":
    the link and the ETag it now serves."""
    made = api.upload_ok(content, "move-me.png", folder="before")
    url = f"/i/{made['id']}"
    before = api.get(url)
    assert before.body == content  # remembered now
    assert api.get(url, query={"variant": "thumbnail"}).status == 200
    reply = api.request("PATCH", f"/v3/images/{made['id']}", json_body={"folder": "after"})
    assert reply.status == 200, reply.body
    moved = api.get(url)
    assert (moved.status, moved.body) == (200, content)
    assert moved.headers["ETag"] == before.headers["ETag"]  # the same bytes
    assert api.get(url, query={"variant": "thumbnail"}).status == 200
    return url, moved.headers["ETag"]


def test_served_files_follow_moves_and_deletes(api: Api) -> None:
    """The proxy remembers which file to send; every change must still be seen."""
    content = image_bytes("PNG", (70, 70), (5, 5, 5))
    url, _ = _moved(api, content)
    api.request("DELETE", f"/v3/images/{url.rsplit('/', 1)[-1]}")
    for query in (None, {"variant": "thumbnail"}):
        assert api.get(url, query=query).status == 410


# Only a folder has files another program edits: a team library's store is written by the
# library alone (no watcher there; the "no watcher, a reconcile job instead").
@pytest.mark.folder_only
def test_served_files_follow_an_edit_found_by_reconciliation(api: Api, library: Library) -> None:
    content = image_bytes("PNG", (70, 70), (5, 5, 5))
    url, old_etag = _moved(api, content)
    assert not (library.root / "before").exists()
    # Edited by another program, then found by reconciliation: new bytes, new ETag.
    edited = image_bytes("PNG", (70, 70), (250, 5, 5))
    (library.root / "after" / "move-me.png").write_bytes(edited)
    library.reconcile()
    fresh = api.get(url)
    assert (fresh.status, fresh.body) == (200, edited)
    assert fresh.headers["ETag"] != old_etag


def test_revalidation_keeps_the_connection_alive(
    live_server: BackgroundServer, library: Library
) -> None:
    import http.client

    record = library.add(io.BytesIO(image_bytes()), "a.jpg")
    conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
    try:
        for _ in range(3):
            conn.request("GET", f"/i/{record.id}", headers={"If-None-Match": f'"{record.etag}"'})
            reply = conn.getresponse()
            assert reply.status == 304
            assert reply.read() == b""
            assert not reply.will_close
        first_socket = conn.sock
        conn.request("GET", f"/i/{record.id}")
        reply = conn.getresponse()
        assert (reply.status, len(reply.read())) == (200, record.size)
        assert conn.sock is first_socket
    finally:
        conn.close()
