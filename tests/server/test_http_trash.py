"""The contract's "Trash" section, through the Flask test client and a real waitress
server: DELETE trashes, /v3/trash lists, restores, purges and empties."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from imageshelf.app.library import Library
from imageshelf.app.library.trash import DAY_US
from tests.conftest import image_bytes
from tests.server.backend_helpers import holds_trashed_bytes, remove_trashed_bytes
from tests.server.http_helpers import IMAGE_FIELDS, Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

UNKNOWN = "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"
RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _color(n: int) -> bytes:
    return image_bytes("PNG", (40, 30), color=(n * 40 % 256, 10, 200))


def test_delete_trashes_and_the_id_answers_410_until_restored(api: Api, library: Library) -> None:
    made = api.upload_ok(_color(1), "kite.png", alt_text="A red kite", folder="birds")
    other = api.upload_ok(_color(2), "other.png")
    etag = api.get(f"/i/{made['id']}").headers["ETag"]
    path = f"/v3/images/{made['id']}"

    reply = api.request("DELETE", path)
    assert (reply.status, reply.body) == (204, b"")
    for again in (
        api.request("DELETE", path),
        api.get(path),
        api.get(f"/i/{made['id']}"),
        api.get(f"/i/{made['id']}", query={"variant": "thumbnail"}),
        api.request("PATCH", path, json_body={"alt_text": "x"}),
    ):
        assert (again.status, again.error_code) == (410, "gone")
    listing = api.get("/v3/images").json()
    assert [i["id"] for i in listing["result"]] == [other["id"]] and listing["total"] == 1
    assert api.get("/v3/images", query={"search": "kite"}).json()["total"] == 0
    assert api.get("/v3/images", query={"folder": "birds"}).json()["total"] == 0
    assert api.get("/v3/images/folders").json() == {"folders": []}

    trash = api.get("/v3/trash").json()
    assert (trash["total"], trash["page"], trash["page_size"]) == (1, 1, 25)
    item = trash["result"][0]
    assert list(item) == [*IMAGE_FIELDS, "deleted_at", "purge_at"]
    assert {k: item[k] for k in IMAGE_FIELDS if k not in ("url", "thumbnail_url")} == {
        k: made[k] for k in IMAGE_FIELDS if k not in ("url", "thumbnail_url")
    }
    assert RFC3339_Z.fullmatch(item["deleted_at"]) and RFC3339_Z.fullmatch(item["purge_at"])
    assert _when(item["purge_at"]) - _when(item["deleted_at"]) == timedelta(days=30)

    restored = api.request("POST", f"/v3/trash/{made['id']}/restore")
    assert restored.status == 200
    assert restored.json() == made  # same id, alt text, folder, created_at, updated_at
    back = api.get(f"/i/{made['id']}")
    assert (back.status, back.headers["ETag"]) == (200, etag)
    assert back.body == _color(1)
    assert api.get("/v3/images/folders").json() == {"folders": ["birds"]}  # made again
    assert api.get("/v3/trash").json()["total"] == 0


def test_restore_takes_the_next_free_name(api: Api) -> None:
    first = api.upload_ok(_color(3), "logo.png", folder="brand")
    assert api.request("DELETE", f"/v3/images/{first['id']}").status == 204
    second = api.upload_ok(_color(4), "logo.png", folder="brand")
    assert second["filename"] == "logo.png"
    restored = api.request("POST", f"/v3/trash/{first['id']}/restore").json()
    assert (restored["id"], restored["folder"]) == (first["id"], "brand")
    assert restored["filename"] == "logo-2.png"
    assert restored["created_at"] == first["created_at"]


def test_restore_and_purge_answers(api: Api, library: Library) -> None:
    live = api.upload_ok(_color(5))
    restore = f"/v3/trash/{live['id']}/restore"
    purge = f"/v3/trash/{live['id']}"
    for reply in (api.request("POST", restore), api.request("DELETE", purge)):
        assert (reply.status, reply.error_code) == (409, "not_in_trash")
    for reply in (
        api.request("POST", f"/v3/trash/{UNKNOWN}/restore"),
        api.request("DELETE", f"/v3/trash/{UNKNOWN}"),
        api.request("POST", "/v3/trash/not-an-id/restore"),
    ):
        assert (reply.status, reply.error_code) == (404, "not_found")

    assert api.request("DELETE", f"/v3/images/{live['id']}").status == 204
    assert holds_trashed_bytes(library, live["id"])  # kept while in the trash
    reply = api.request("DELETE", purge)
    assert (reply.status, reply.body) == (204, b"")
    assert not holds_trashed_bytes(library, live["id"])  # the bytes are removed
    for reply in (
        api.request("POST", restore),
        api.get(f"/v3/images/{live['id']}"),
        api.get(f"/i/{live['id']}"),
        api.request("DELETE", f"/v3/images/{live['id']}"),
        api.request("DELETE", purge),
    ):
        assert (reply.status, reply.error_code) == (410, "gone")


# Folder only: a file deleted by another program is a folder's (reconcile and the watcher
# drop its row). Nothing outside writes to a team library's bucket; a row whose object is
# missing there is reported by its reconcile job, never dropped (storage_s3_collect).
@pytest.mark.folder_only
def test_a_file_deleted_outside_is_not_in_the_trash(api: Api, library: Library) -> None:
    made = api.upload_ok(_color(6), "outside.png")
    (library.root / "outside.png").unlink()
    library.reconcile()
    assert api.get(f"/i/{made['id']}").status == 410
    assert api.get("/v3/trash").json()["total"] == 0
    reply = api.request("POST", f"/v3/trash/{made['id']}/restore")
    assert (reply.status, reply.error_code) == (410, "gone")


def test_a_trashed_image_whose_bytes_were_removed_by_hand_is_gone(
    api: Api, library: Library
) -> None:
    made = api.upload_ok(_color(7), "cleaned.png")
    assert api.request("DELETE", f"/v3/images/{made['id']}").status == 204
    remove_trashed_bytes(library, made["id"])
    reply = api.request("POST", f"/v3/trash/{made['id']}/restore")
    assert (reply.status, reply.error_code) == (410, "gone")
    assert api.get("/v3/trash").json()["total"] == 0  # purged: nothing left to restore
    assert api.get(f"/v3/images/{made['id']}").status == 410


def test_listing_is_most_recently_deleted_first_and_pages(api: Api, library: Library) -> None:
    ids = [api.upload_ok(_color(10 + n), f"{n}.png")["id"] for n in range(5)]
    for image_id in ids:  # deleted in upload order: the last deleted is listed first
        assert api.request("DELETE", f"/v3/images/{image_id}").status == 204
    page1 = api.get("/v3/trash", query={"page_size": "2"}).json()
    page3 = api.get("/v3/trash", query={"page": "3", "page_size": "2"}).json()
    past = api.get("/v3/trash", query={"page": "9", "page_size": "2"}).json()
    assert [i["id"] for i in page1["result"]] == ids[::-1][:2]
    assert [i["id"] for i in page3["result"]] == ids[:1]
    assert (past["result"], past["total"], past["page"]) == ([], 5, 9)
    for query in ({"page": "0"}, {"page_size": "101"}, {"page": "x"}, {"page_size": "-1"}):
        reply = api.get("/v3/trash", query=query)
        assert reply.status == 400, query
        reply.error_code  # noqa: B018 -- asserts the JSON error shape


def test_empty_purges_everything_and_says_how_many(api: Api, library: Library) -> None:
    ids = [api.upload_ok(_color(20 + n), f"e{n}.png")["id"] for n in range(3)]
    for image_id in ids:
        api.request("DELETE", f"/v3/images/{image_id}")
    assert all(holds_trashed_bytes(library, i) for i in ids)
    reply = api.request("POST", "/v3/trash/empty")
    assert (reply.status, reply.json()) == (200, {"purged": 3})
    assert not any(holds_trashed_bytes(library, i) for i in ids)  # the bytes went too
    assert api.get("/v3/trash").json()["total"] == 0
    assert all(api.get(f"/i/{i}").status == 410 for i in ids)
    assert api.request("POST", "/v3/trash/empty").json() == {"purged": 0}


def test_retention_zero_keeps_until_emptied_with_purge_at_null(api: Api, library: Library) -> None:
    made = api.upload_ok(_color(30))
    api.request("DELETE", f"/v3/images/{made['id']}")
    library.trash.set_retention_days(0)
    with library.engine.begin() as conn:  # deleted a year ago: still kept
        conn.execute(text("UPDATE trash SET deleted_at = deleted_at - :d"), {"d": 365 * DAY_US})
    assert library.trash.purge_expired() == 0
    item = api.get("/v3/trash").json()["result"][0]
    assert (item["id"], item["purge_at"]) == (made["id"], None)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v3/trash"), ("POST", "/v3/trash/empty"), ("DELETE", f"/v3/trash/{UNKNOWN}")],
)
def test_the_trash_needs_the_token(api: Api, method: str, path: str) -> None:
    reply = api.request(method, path, auth=False)
    assert (reply.status, reply.error_code) == (401, "unauthorized")
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_methods_are_json_405(api: Api) -> None:
    for method, path in (
        ("PUT", "/v3/trash"),
        ("GET", "/v3/trash/empty/x"),
        ("GET", "/v3/trash/empty"),
    ):
        reply = api.request(method, path)
        assert reply.status in (404, 405), (method, path)
        reply.error_code  # noqa: B018 -- asserts the JSON error shape


def test_trash_replies_match_the_openapi_document(api: Api) -> None:
    from tests.server.test_http_openapi import conforms

    coll, restore, item, empty = (
        "/v3/trash",
        "/v3/trash/{image_id}/restore",
        "/v3/trash/{image_id}",
        "/v3/trash/empty",
    )
    image_id = api.upload_ok(_color(40), "doc.png", folder="d")["id"]
    conforms(api.request("POST", f"/v3/trash/{image_id}/restore"), restore, "post")  # 409
    conforms(api.request("DELETE", f"/v3/trash/{image_id}"), item, "delete")  # 409
    conforms(api.request("DELETE", f"/v3/images/{image_id}"), "/v3/images/{image_id}", "delete")
    conforms(api.get(coll), coll, "get")
    conforms(api.get(coll, query={"page": "0"}), coll, "get")
    conforms(api.get(coll, auth=False), coll, "get")
    conforms(api.request("POST", f"/v3/trash/{image_id}/restore"), restore, "post")  # 200
    conforms(api.request("POST", f"/v3/trash/{UNKNOWN}/restore"), restore, "post")  # 404
    api.request("DELETE", f"/v3/images/{image_id}")
    conforms(api.request("DELETE", f"/v3/trash/{image_id}"), item, "delete")  # 204
    conforms(api.request("DELETE", f"/v3/trash/{image_id}"), item, "delete")  # 410
    conforms(api.request("POST", empty), empty, "post")
