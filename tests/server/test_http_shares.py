"""Share links through the real server (Flask's client and waitress): ``/v3/shares`` and
the ``/s/{token}`` page, its images, QR code, password, expiry, revocation and caching."""

from __future__ import annotations

import http.client
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from imageshelf.app.library import Library, rules
from imageshelf.server import BackgroundServer
from imageshelf.server.share_page import qr_svg
from tests.conftest import image_bytes
from tests.server.backend_helpers import database_text
from tests.server.http_helpers import TOKEN, Api, HttpApi, Reply

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class Images(HTMLParser):
    """Every ``<img>`` of a page, as a dict of its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
        for key, value in attrs:
            if key == "id" and value:
                self.ids.add(value)


def parse(body: bytes) -> Images:
    parser = Images()
    parser.feed(body.decode())
    return parser


def share(api: Api, **body: Any) -> dict[str, Any]:
    reply = api.request("POST", "/v3/shares", json_body=body)
    assert reply.status == 201, reply.body
    return reply.json()


def path_of(made: dict[str, Any]) -> str:
    return urlsplit(made["url"]).path


def expire(library: Library, share_id: str) -> None:
    """The share's expiry moved to the past, in the database itself (no waiting)."""
    with library.core.write() as conn:
        conn.execute(text("UPDATE shares SET expires_at = 1 WHERE id = :id"), {"id": share_id})


def max_age(reply: Reply) -> int:
    cache = reply.headers["Cache-Control"]
    assert "immutable" not in cache and "public" not in cache, cache
    match = re.fullmatch(r"private, max-age=(\d+)", cache)
    assert match, cache
    return int(match.group(1))


@pytest.fixture
def photos(api: Api) -> list[dict[str, Any]]:
    """Described, decorative, undescribed with a long description, and one elsewhere."""
    described = api.upload_ok(
        image_bytes(size=(2000, 1000)), "harbour.jpg", alt_text="A harbour at dusk"
    )
    decorative = api.upload_ok(image_bytes("PNG", color=(1, 2, 3)), "rule.png", alt_text="")
    long = api.upload_ok(image_bytes(color=(9, 9, 9)), "chart.jpg", alt_text="Sales chart")
    api.request(
        "PATCH", f"/v3/images/{long['id']}", json_body={"long_description": "Up 20% in May."}
    )
    other = api.upload_ok(image_bytes(color=(50, 60, 70)), "secret.jpg", alt_text="Not shared")
    return [described, decorative, long, other]


def test_image_share_page_shows_each_image_with_its_alt_text(
    api: Api, photos: list[dict[str, Any]], library: Library
) -> None:
    described, decorative, long, other = photos
    made = share(api, image_ids=[described["id"], decorative["id"], long["id"]])
    assert re.fullmatch(r"shr_[0-9A-HJKMNP-TV-Z]{26}", made["id"])
    assert made["image_count"] == 3 and made["expires_at"] is None and made["created_at"]
    token = path_of(made).removeprefix("/s/")
    assert len(token) >= 43  # 256 bits, URL-safe base64
    # Stored hashed: the token is nowhere in the database.
    with library.core.read() as conn:
        stored = conn.execute(text("SELECT token_hash FROM shares")).scalars().all()
    dump = database_text(library)
    assert len(stored) == 1 and stored[0] in dump and token not in dump

    page = api.get(path_of(made), auth=False, headers=HTML)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert max_age(page) <= 300 and page.headers["ETag"]
    found = parse(page.body)
    shown = {
        i["src"].split("/i/")[1].split("?")[0]: i for i in found.images if "/i/" in (i["src"] or "")
    }
    assert set(shown) == {described["id"], decorative["id"], long["id"]}
    assert shown[described["id"]]["alt"] == "A harbour at dusk"
    assert shown[decorative["id"]]["alt"] == ""
    assert shown[long["id"]]["aria-describedby"] in found.ids
    assert b"Up 20% in May." in page.body
    # A phone picks a small width: the transforms of /i, never wider than the original.
    srcset = shown[described["id"]]["srcset"] or ""
    assert "?w=320 320w" in srcset and "?w=1600 1600w" in srcset and " 2000w" in srcset
    small = shown[decorative["id"]]["srcset"] or ""
    assert "?w=" not in small  # 64 px wide: only the original
    assert b'name="viewport"' in page.body and b"<html lang=" in page.body
    assert other["id"].encode() not in page.body


def test_share_images_are_the_proxys_with_private_caching(
    api: Api, photos: list[dict[str, Any]]
) -> None:
    described, _, _, other = photos
    made = share(api, image_ids=[described["id"]])
    base = path_of(made)
    original = api.get(f"/i/{described['id']}", auth=False)
    shared = api.get(f"{base}/i/{described['id']}", auth=False)
    assert shared.status == 200 and shared.body == original.body
    assert shared.headers["ETag"] == original.headers["ETag"]
    assert max_age(shared) <= 300
    assert "Access-Control-Allow-Origin" not in shared.headers
    # ?v= pins a public link; under /s/ nothing is immutable.
    version = original.headers["ETag"].strip('"')[:16]
    pinned = api.get(f"{base}/i/{described['id']}", auth=False, query={"v": version})
    assert pinned.status == 200 and max_age(pinned) <= 300
    resized = api.get(f"{base}/i/{described['id']}.webp", auth=False, query={"w": "320"})
    assert resized.status == 200 and resized.headers["Content-Type"] == "image/webp"
    assert max_age(resized) <= 300
    again = api.get(
        f"{base}/i/{described['id']}.webp",
        auth=False,
        query={"w": "320"},
        headers={"If-None-Match": resized.headers["ETag"]},
    )
    assert again.status == 304 and max_age(again) <= 300
    bad = api.get(f"{base}/i/{described['id']}", auth=False, query={"w": "0"})
    assert bad.status == 400 and bad.error_code == "invalid_transform"
    # The proxy's own errors too are a small page for a browser, with the same status.
    page = api.get(f"{base}/i/{described['id']}", auth=False, query={"w": "0"}, headers=HTML)
    assert page.status == 400 and page.headers["Content-Type"].startswith("text/html")
    assert b"<h1>400</h1>" in page.body and page.headers["Cache-Control"] == "no-store"
    # An image of the library that is not in the share is not reachable through it.
    assert api.get(f"{base}/i/{other['id']}", auth=False).error_code == "not_found"
    assert api.get(f"{base}/i/nonsense", auth=False).status == 404


def test_folder_share_is_live_and_recursive_only_when_asked(api: Api) -> None:
    top = api.upload_ok(image_bytes(), "a.jpg", folder="trip", alt_text="a")
    below = api.upload_ok(image_bytes(), "b.jpg", folder="trip/day1", alt_text="b")
    flat = share(api, folder="trip")
    deep = share(api, folder="trip", recursive=True)
    assert (flat["kind"], flat["folder"], flat["image_count"]) == ("folder", "trip", 1)
    assert deep["image_count"] == 2 and deep["recursive"] is True
    assert below["id"].encode() not in api.get(path_of(flat), auth=False).body
    assert below["id"].encode() in api.get(path_of(deep), auth=False).body
    assert api.get(f"{path_of(flat)}/i/{below['id']}", auth=False).status == 404
    assert api.get(f"{path_of(deep)}/i/{below['id']}", auth=False).status == 200
    later = api.upload_ok(image_bytes(), "c.jpg", folder="trip", alt_text="later")
    page = api.get(path_of(flat), auth=False)
    assert later["id"].encode() in page.body and top["id"].encode() in page.body
    listed = api.get("/v3/shares").json()
    assert listed["total"] == 2
    assert {s["id"]: s["image_count"] for s in listed["result"]} == {flat["id"]: 2, deep["id"]: 3}
    assert all("url" not in s for s in listed["result"])  # the token is shown once


def test_a_folder_share_needs_the_folder_and_may_start_empty(api: Api, library: Library) -> None:
    """A folder with no image yet is shared (kept on disk in a folder library, a kept
    row in a team one); a folder the library has not is 404."""
    library.make_folder("drafts/empty")
    made = share(api, folder="drafts/empty")
    assert (made["folder"], made["image_count"]) == ("drafts/empty", 0)
    assert share(api, folder="drafts")["image_count"] == 0  # its parent stands too
    reply = api.request("POST", "/v3/shares", json_body={"folder": "nowhere"})
    assert (reply.status, reply.error_code) == (404, "not_found")
    later = api.upload_ok(image_bytes(), "d.jpg", folder="drafts/empty", alt_text="d")
    assert later["id"].encode() in api.get(path_of(made), auth=False).body


def test_revoke_is_seen_by_a_client_that_cached_the_page(
    api: Api, photos: list[dict[str, Any]]
) -> None:
    made = share(api, image_ids=[photos[0]["id"]])
    page = api.get(path_of(made), auth=False)
    image = api.get(f"{path_of(made)}/i/{photos[0]['id']}", auth=False)
    cached = {"If-None-Match": page.headers["ETag"]}
    assert api.get(path_of(made), auth=False, headers=cached).status == 304
    assert api.request("DELETE", f"/v3/shares/{made['id']}").status == 204
    assert api.get(path_of(made), auth=False, headers=cached).error_code == "not_found"
    stale = {"If-None-Match": image.headers["ETag"]}
    gone = api.get(f"{path_of(made)}/i/{photos[0]['id']}", auth=False, headers=stale)
    assert gone.status == 404
    assert api.get(f"{path_of(made)}/qr.svg", auth=False).status == 404
    assert api.request("DELETE", f"/v3/shares/{made['id']}").error_code == "not_found"
    assert api.get("/v3/shares").json() == {"result": [], "total": 0}


def test_expiry_is_seen_by_a_client_that_cached_the_page(
    api: Api, photos: list[dict[str, Any]], library: Library
) -> None:
    made = share(api, image_ids=[photos[0]["id"]], expires_in=60)
    assert made["expires_at"] is not None
    page = api.get(path_of(made), auth=False)
    assert max_age(page) <= 60  # never cached past the expiry
    expire(library, made["id"])
    again = api.get(path_of(made), auth=False, headers={"If-None-Match": page.headers["ETag"]})
    assert again.status == 410 and again.error_code == "gone"
    assert api.get(f"{path_of(made)}/i/{photos[0]['id']}", auth=False).status == 410
    listed = api.get("/v3/shares").json()["result"]
    assert listed[0]["expired"] is True
    html = api.get(path_of(made), auth=False, headers=HTML)
    assert html.status == 410 and html.headers["Content-Type"].startswith("text/html")
    assert b"expired" in html.body


def test_unknown_token_is_404_json_or_a_small_page(api: Api) -> None:
    assert api.get("/s/not-a-real-token", auth=False).error_code == "not_found"
    page = api.get("/s/not-a-real-token", auth=False, headers=HTML)
    assert page.status == 404 and page.headers["Content-Type"].startswith("text/html")
    assert b"<h1>404</h1>" in page.body


def _post_password(api: Api, path: str, password: str) -> Reply:
    if isinstance(api, HttpApi):  # see the 303 itself, as the test client does
        r = api.session.post(
            api.base_url + path, data={"password": password}, allow_redirects=False, timeout=60
        )
        return Reply(r.status_code, r.headers, r.content)
    return api.request("POST", path, auth=False, form={"password": password})


def test_password_form_then_an_httponly_strict_cookie_for_the_share_only(
    api: Api, photos: list[dict[str, Any]]
) -> None:
    made = share(api, image_ids=[photos[0]["id"]], password="correct horse")
    assert made["password"] is True
    base = path_of(made)
    assert api.get(base, auth=False).error_code == "password_required"
    assert api.get(f"{base}/i/{photos[0]['id']}", auth=False).status == 403
    form = api.get(base, auth=False, headers=HTML)
    assert form.status == 403 and b'name="password"' in form.body and b'method="post"' in form.body
    wrong = _post_password(api, base, "wrong")
    assert wrong.status == 403 and wrong.error_code == "wrong_password"
    right = _post_password(api, base, "correct horse")
    assert right.status == 303 and right.headers["Location"] == base
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={base}" in cookie
    assert "correct horse" not in cookie and "correct%20horse" not in cookie
    page = api.get(base, auth=False)  # the client kept the cookie
    assert page.status == 200 and "Cookie" in page.headers["Vary"]
    assert api.get(f"{base}/i/{photos[0]['id']}", auth=False).status == 200
    # The cookie of one share opens no other.
    other = share(api, image_ids=[photos[0]["id"]], password="correct horse")
    assert api.get(path_of(other), auth=False).error_code == "password_required"


def test_qr_code_is_an_svg_of_the_page_address(api: Api, photos: list[dict[str, Any]]) -> None:
    import segno

    made = share(api, image_ids=[photos[0]["id"]])
    qr = api.get(f"{path_of(made)}/qr.svg", auth=False)
    assert qr.status == 200 and qr.headers["Content-Type"].startswith("image/svg+xml")
    assert max_age(qr) <= 300 and qr.body.lstrip().startswith(b"<svg")
    assert qr.body == qr_svg(made["url"])  # the page's own address, nothing else
    symbol = segno.make(made["url"], error="m")
    assert b'viewBox="0 0 %d %d"' % symbol.symbol_size(scale=4, border=4) in qr.body


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_input"),
        ({"image_ids": ["img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"], "folder": "x"}, 400, "invalid_input"),
        ({"image_ids": []}, 400, "invalid_input"),
        ({"image_ids": ["nope"]}, 400, "invalid_input"),
        ({"image_ids": ["img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"]}, 404, "not_found"),
        ({"folder": "no/such"}, 404, "not_found"),
        ({"folder": "../etc"}, 400, "invalid_folder"),
        ({"folder": "", "expires_in": 0}, 400, "invalid_input"),
        ({"folder": "", "expires_in": True}, 400, "invalid_input"),
        ({"folder": "", "expires_in": 10**12}, 400, "invalid_input"),
        ({"folder": "", "password": ""}, 400, "invalid_input"),
        ({"folder": "", "recursive": "yes"}, 400, "invalid_input"),
        ({"folder": "", "colour": "red"}, 400, "invalid_input"),
    ],
)
def test_bad_share_requests_are_clear_400s_and_404s(
    api: Api, body: dict[str, Any], status: int, code: str
) -> None:
    reply = api.request("POST", "/v3/shares", json_body=body)
    assert (reply.status, reply.error_code) == (status, code), reply.body
    assert api.get("/v3/shares").json()["total"] == 0  # nothing half-made


def test_shares_need_the_token(api: Api) -> None:
    assert api.request("POST", "/v3/shares", auth=False, json_body={"folder": ""}).status == 401
    assert api.get("/v3/shares", auth=False).status == 401
    assert (
        api.request("DELETE", "/v3/shares/shr_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B", auth=False).status == 401
    )


def test_whole_library_share_and_a_deleted_image(api: Api, photos: list[dict[str, Any]]) -> None:
    made = share(api, folder=None, recursive=True)
    assert made["image_count"] == 4 and made["folder"] is None
    assert api.request("DELETE", f"/v3/images/{photos[0]['id']}").status == 204
    assert api.get(f"{path_of(made)}/i/{photos[0]['id']}", auth=False).status in (404, 410)
    listed = share(api, image_ids=[photos[1]["id"], photos[2]["id"]])
    api.request("DELETE", f"/v3/images/{photos[1]['id']}")
    assert api.get(f"{path_of(listed)}/i/{photos[1]['id']}", auth=False).status == 410
    assert api.get("/v3/shares").json()["result"][0]["image_count"] == 1


def test_host_check_covers_share_paths(library: Library) -> None:
    """Listening on loopback only, a share asked for under another Host name is 421."""
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    try:
        made = library.shares.create(folder="", folder_share=True)
        path = f"/s/{made.token}"
        for host, status in (
            ("evil.example", 421),
            (f"evil.example:{server.port}", 421),
            ("localhost", 200),
            (f"127.0.0.1:{server.port}", 200),
            (f"[::1]:{server.port}", 200),
        ):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", path, headers={"Host": host})
            reply = conn.getresponse()
            body = reply.read()
            conn.close()
            assert reply.status == status, (host, body)
            if status == 421:
                assert b"misdirected_request" in body
        # Under /s/, a browser gets the 421 as a small page; elsewhere it stays JSON.
        for where, kind in ((path, "text/html"), ("/v3/images", "application/json")):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", where, headers={"Host": "evil.example", **HTML})
            reply = conn.getresponse()
            reply.read()
            conn.close()
            assert reply.status == 421 and reply.getheader("Content-Type", "").startswith(kind)
    finally:
        server.stop()


def test_password_checks_are_bounded_503_when_too_many(
    api: Api, photos: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each check holds scrypt's memory: past the few allowed at once, a clear 503."""
    from imageshelf.app.library import shares

    made = share(api, image_ids=[photos[0]["id"]], password="pw")
    monkeypatch.setattr(rules, "SHARE_PASSWORD_WAIT_S", 0.05)
    held = [shares._PASSWORD_CHECKS.acquire(timeout=5) for _ in range(rules.SHARE_PASSWORD_CHECKS)]
    try:
        assert all(held)
        busy = _post_password(api, path_of(made), "pw")
        assert busy.status == 503 and busy.error_code == "busy" and busy.headers["Retry-After"]
    finally:
        for _ in held:
            shares._PASSWORD_CHECKS.release()
    assert _post_password(api, path_of(made), "pw").status == 303
