"""The /v3/images contract, through the Flask test client and a real waitress server."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import pytest

from imageshelf.app.library import Library
from tests.conftest import image_bytes
from tests.server.backend_helpers import folder_paths, holds_original
from tests.server.http_helpers import IMAGE_FIELDS, Api, HttpApi

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def test_upload_returns_exactly_the_image_response(api: Api, library: Library) -> None:
    content = image_bytes("PNG", (120, 80))
    reply = api.upload(content, "company-logo ñ.png", alt_text="Acme logo", folder="brand")
    assert reply.status == 201
    body = reply.json()
    assert list(body) == IMAGE_FIELDS
    assert re.fullmatch(r"img_[0-9A-HJKMNP-TV-Z]{26}", body["id"])
    assert body["filename"] == "company-logo ñ.png"
    assert body["original_filename"] == "company-logo ñ.png"
    assert (body["content_type"], body["size"]) == ("image/png", len(content))
    assert (body["width"], body["height"]) == (120, 80)
    assert body["url"] == f"{api.base_url}/i/{body['id']}"
    assert body["thumbnail_url"] == body["url"] + "?variant=thumbnail"
    assert (body["alt_text"], body["folder"]) == ("Acme logo", "brand")
    for stamp in ("created_at", "updated_at"):
        assert RFC3339_Z.fullmatch(body[stamp]), body[stamp]
    assert reply.headers["Location"] == f"/v3/images/{body['id']}"
    # Durably in the library: the row and byte-identical bytes in the storage, under
    # the key its row names (in a folder library the file brand/company-logo ñ.png).
    record = library.get(body["id"])
    key = library.core.key_of(record)
    assert key == library.core.storage.key(body["id"], "brand/company-logo ñ.png")
    with library.core.storage.open(key) as stored:
        assert stored.read() == content
    assert folder_paths(library) == {"brand"}


def test_format_comes_from_the_bytes_not_the_name(api: Api) -> None:
    body = api.upload_ok(image_bytes("JPEG"), "photo.png")
    assert body["content_type"] == "image/jpeg"
    assert body["filename"] == "photo.jpg"
    assert body["original_filename"] == "photo.png"


def test_alt_text_absent_is_null_and_empty_is_decorative(api: Api) -> None:
    assert api.upload_ok(image_bytes())["alt_text"] is None
    assert api.upload_ok(image_bytes(), alt_text="")["alt_text"] == ""
    assert api.upload_ok(image_bytes(), folder="")["folder"] is None


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "malformed_image"),
        (image_bytes("JPEG", (200, 200))[:300], "malformed_image"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "unsupported_format"),
        (image_bytes("PPM"), "unsupported_format"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "unsupported_format"),
    ],
    ids=["empty", "truncated", "pdf", "ppm", "svg"],
)
def test_bad_files_are_400_and_leave_nothing(
    api: Api, library: Library, content: bytes, code: str
) -> None:
    reply = api.upload(content, "x.jpg", folder="new-folder")
    assert reply.status == 400
    assert reply.error_code in (code, "malformed_image", "unsupported_format")
    assert library.count() == 0
    assert "new-folder" not in folder_paths(library)
    assert list(library.tmp_dir.iterdir()) == []  # the storage's staging folder


@pytest.mark.parametrize("folder", ["../up", "a/../b", ".hidden", "x" * 65, "/".join("a" * 9)])
def test_bad_folder_is_400_and_never_outside_the_library(
    api: Api, library: Library, folder: str
) -> None:
    reply = api.upload(image_bytes(), folder=folder)
    assert reply.status == 400
    assert reply.error_code == "invalid_folder"
    assert library.count() == 0
    assert folder_paths(library) == set()  # no folder made in the library ...
    assert not (library.root.parent / "up").exists()  # ... nor beside it


def test_bad_alt_text_is_400(api: Api, library: Library) -> None:
    assert api.upload(image_bytes(), alt_text="x" * 2001).error_code == "invalid_alt_text"
    assert api.upload(image_bytes(), alt_text="bell\x07").status == 400
    assert library.count() == 0


def test_missing_file_field_is_400(api: Api) -> None:
    reply = api.request("POST", "/v3/images", form={"alt_text": "no file"})
    assert reply.status == 400
    assert reply.error_code == "missing_file"
    not_multipart = api.request("POST", "/v3/images", data=b"raw bytes")
    assert not_multipart.status == 400
    assert not_multipart.error_code == "missing_file"


def _seed(api: Api) -> dict[str, dict]:
    made = {
        "root": api.upload_ok(image_bytes(), "sunset.jpg", alt_text="Sunset over 100% sea"),
        "logo": api.upload_ok(image_bytes("PNG"), "logo.png", alt_text="Acme LOGO", folder="brand"),
        "ana": api.upload_ok(image_bytes(), "ana.jpg", folder="headshots"),
        "deep": api.upload_ok(image_bytes("GIF"), "kite_1.gif", folder="clients/acme"),
    }
    return made


def test_list_filters_paging_and_order(api: Api) -> None:
    made = _seed(api)
    everything = api.get("/v3/images")
    assert everything.status == 200
    body = everything.json()
    assert list(body) == ["result", "total", "page", "page_size"]
    assert (body["total"], body["page"], body["page_size"]) == (4, 1, 25)
    newest_first = [made[k]["id"] for k in ("deep", "ana", "logo", "root")]
    assert [r["id"] for r in body["result"]] == newest_first
    assert all(list(r) == IMAGE_FIELDS for r in body["result"])

    def ids(**query: str) -> list[str]:
        reply = api.get("/v3/images", query=query)
        assert reply.status == 200, reply.body
        return [r["id"] for r in reply.json()["result"]]

    assert ids(folder="brand") == [made["logo"]["id"]]
    assert ids(folder="clients/acme") == [made["deep"]["id"]]
    assert ids(folder="clients") == []
    assert ids(folder="") == [made["root"]["id"]]
    assert ids(search="logo") == [made["logo"]["id"]]
    assert ids(search="acme") == [made["logo"]["id"]]  # alt text, case-insensitive
    assert ids(search="100%") == [made["root"]["id"]]  # % is literal
    assert ids(search="_") == [made["deep"]["id"]]  # _ is literal
    assert ids(search="ANA") == [made["ana"]["id"]]
    pages = [ids(page=str(p), page_size="3") for p in (1, 2)]
    assert pages == [newest_first[:3], newest_first[3:]]
    past = api.get("/v3/images", query={"page": "9", "page_size": "2"}).json()
    assert (past["result"], past["total"], past["page"], past["page_size"]) == ([], 4, 9, 2)


def test_search_ignores_accents_both_ways(api: Api) -> None:
    """The API's search is the core's: ``cafe`` finds ``café``, ``café`` finds ``cafe``,
    whichever Unicode form the name or the query came in (decomposed from macOS)."""
    accented = api.upload_ok(image_bytes(), "Café Noir.jpg", alt_text="crème brûlée")
    plain = api.upload_ok(image_bytes("PNG"), "cafe-au-lait.png")
    decomposed = unicodedata.normalize("NFD", "café")

    def ids(term: str) -> set[str]:
        reply = api.get("/v3/images", query={"search": term})
        assert reply.status == 200, reply.body
        return {r["id"] for r in reply.json()["result"]}

    both = {accented["id"], plain["id"]}
    assert ids("cafe") == ids("café") == ids("CAFÉ") == ids(decomposed) == both
    assert ids("cafe noir") == ids("CAFÉ NOÏR") == {accented["id"]}
    assert ids("creme brulee") == {accented["id"]}
    assert ids("café-au") == {plain["id"]}


@pytest.mark.parametrize(
    "query",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "x"},
        {"page": "1.5"},
        {"page_size": "0"},
        {"page_size": "101"},
        {"page_size": ""},
        {"folder": "../etc"},
    ],
)
def test_list_refuses_bad_paging_and_folders(api: Api, query: dict[str, str]) -> None:
    reply = api.get("/v3/images", query=query)
    assert reply.status == 400
    assert reply.error_code in ("invalid_input", "invalid_folder")


def test_folders_in_use_sorted_without_root(api: Api) -> None:
    assert api.get("/v3/images/folders").json() == {"folders": []}
    made = _seed(api)
    assert api.get("/v3/images/folders").json() == {
        "folders": ["brand", "clients/acme", "headshots"]
    }
    api.request("DELETE", f"/v3/images/{made['ana']['id']}")
    assert api.get("/v3/images/folders").json() == {"folders": ["brand", "clients/acme"]}


def test_get_one(api: Api) -> None:
    made = api.upload_ok(image_bytes(), alt_text="A kite")
    reply = api.get(f"/v3/images/{made['id']}")
    assert reply.status == 200
    assert reply.json() == made
    unknown = api.get("/v3/images/img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B")
    assert (unknown.status, unknown.error_code) == (404, "not_found")
    assert api.get("/v3/images/not-an-id").status == 404


def test_patch_changes_only_what_is_sent(api: Api, library: Library) -> None:
    made = api.upload_ok(image_bytes(), "kite.jpg", alt_text="A kite", folder="old")
    path = f"/v3/images/{made['id']}"
    moved = api.request("PATCH", path, json_body={"folder": "clients/acme"})
    assert moved.status == 200
    body = moved.json()
    assert list(body) == IMAGE_FIELDS
    assert (body["folder"], body["alt_text"]) == ("clients/acme", "A kite")
    assert body["created_at"] == made["created_at"]
    assert datetime.fromisoformat(body["updated_at"]) > datetime.fromisoformat(made["updated_at"])
    assert library.core.key_of(library.get(made["id"])) == library.core.storage.key(
        made["id"], "clients/acme/kite.jpg"
    )
    assert holds_original(library, made["id"])
    assert folder_paths(library) == {"clients", "clients/acme"}  # "old" went with its image

    described = api.request("PATCH", path, json_body={"alt_text": ""}).json()
    assert (described["alt_text"], described["folder"]) == ("", "clients/acme")
    cleared = api.request("PATCH", path, json_body={"alt_text": None, "folder": None}).json()
    assert (cleared["alt_text"], cleared["folder"]) == (None, None)
    assert library.core.key_of(library.get(made["id"])) == library.core.storage.key(
        made["id"], "kite.jpg"
    )
    assert holds_original(library, made["id"])
    assert api.request("PATCH", path, json_body={}).json() == api.get(path).json()


@pytest.mark.parametrize(
    "payload",
    [
        b'["alt_text"]',
        b'"text"',
        b"null",
        b"{not json",
        b'{"alt_text": 5}',
        b'{"folder": true}',
        b'{"alt_text": ["a"]}',
        b'{"title": "x"}',
        b'{"alt_text": "ok", "id": "img_x"}',
        b'{"folder": "../../etc"}',
        b"\xff\xfe",
    ],
)
def test_patch_refuses_anything_but_a_proper_object(
    api: Api, library: Library, payload: bytes
) -> None:
    made = api.upload_ok(image_bytes(), alt_text="kept")
    reply = api.request(
        "PATCH",
        f"/v3/images/{made['id']}",
        data=payload,
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 400, reply.body
    reply.error_code  # noqa: B018 -- asserts the JSON error shape
    assert library.get(made["id"]).alt_text == "kept"


def test_delete_then_gone(api: Api, library: Library) -> None:
    made = api.upload_ok(image_bytes(), "bye.jpg", folder="brand")
    path = f"/v3/images/{made['id']}"
    reply = api.request("DELETE", path)
    assert (reply.status, reply.body) == (204, b"")
    assert "brand" not in folder_paths(library)
    for again in (api.request("DELETE", path), api.get(path), api.get(f"/i/{made['id']}")):
        assert (again.status, again.error_code) == (410, "gone")
    patch = api.request("PATCH", path, json_body={"alt_text": "x"})
    assert patch.status == 410
    unknown = api.request("DELETE", "/v3/images/img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B")
    assert (unknown.status, unknown.error_code) == (404, "not_found")


def test_url_uses_public_url_when_configured(library: Library) -> None:
    from imageshelf.server import create_app
    from tests.server.http_helpers import FlaskApi

    api = FlaskApi(
        create_app(library, token="t", public_url="https://img.example.org/").test_client()
    )
    reply = api.upload(image_bytes(), headers={"Authorization": "Bearer t"}, auth=False)
    body = reply.json()
    assert body["url"] == f"https://img.example.org/i/{body['id']}"


def _refused_as_misdirected(api: Api, host: str) -> bool:
    """The live server listens on loopback only: another Host is refused (contract Part 2,
    "Share links"), so the URL rules below are the Flask app's, built without that."""
    if not isinstance(api, HttpApi):
        return False
    reply = api.upload(image_bytes(), headers={"Host": host})
    assert reply.status == 421, reply.body
    assert reply.error_code == "misdirected_request"
    return True


def test_url_follows_the_host_the_request_came_in_on(api: Api) -> None:
    if _refused_as_misdirected(api, "shelf.lan:8765"):
        return
    body = api.upload_ok(image_bytes(), headers={"Host": "shelf.lan:8765"})
    assert body["url"] == f"http://shelf.lan:8765/i/{body['id']}"


@pytest.mark.parametrize("host", ["a b", "evil.example/<x>", "x:99999", "ünï.example"])
def test_url_stays_absolute_when_the_host_header_is_invalid(api: Api, host: str) -> None:
    if _refused_as_misdirected(api, host):
        return
    body = api.upload_ok(image_bytes(), headers={"Host": host})
    assert re.fullmatch(r"http://[^/\s<>]+/i/img_\w{26}", body["url"]), body["url"]
    assert body["thumbnail_url"] == body["url"] + "?variant=thumbnail"
