"""The contract's "Bulk delete" section through the Flask client and a live waitress
server: up to 1,000 ids to the trash, answered in three lists; a malformed list is 400
and changes nothing."""

from __future__ import annotations

import pytest

from imageshelf.app.library import Library
from tests.conftest import image_bytes
from tests.server.http_helpers import Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

UNKNOWN = "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"


def _png(n: int) -> bytes:
    return image_bytes("PNG", (24, 16), color=(n * 50 % 256, 20, 90))


def test_bulk_delete_trashes_and_sorts_every_id(api: Api, library: Library) -> None:
    a, b, c = (api.upload_ok(_png(n), f"p{n}.png", folder="set")["id"] for n in range(3))
    assert api.request("DELETE", f"/v3/images/{c}").status == 204

    reply = api.request(
        "POST", "/v3/images/bulk_delete", json_body={"image_ids": [a, c, UNKNOWN, b, a]}
    )
    assert reply.status == 200, reply.body
    assert reply.json() == {"deleted": [a, b], "already_deleted": [c], "not_found": [UNKNOWN]}
    for image_id in (a, b):
        assert api.get(f"/v3/images/{image_id}").status == 410
        assert api.get(f"/i/{image_id}").status == 410
    assert api.get("/v3/images").json()["total"] == 0
    assert api.get("/v3/images/folders").json() == {"folders": []}
    trashed = {i["id"] for i in api.get("/v3/trash").json()["result"]}
    assert trashed == {a, b, c}
    # Restorable one by one, like any delete.
    assert api.request("POST", f"/v3/trash/{a}/restore").status == 200
    again = api.request("POST", "/v3/images/bulk_delete", json_body={"image_ids": [a, b]})
    assert again.json() == {"deleted": [a], "already_deleted": [b], "not_found": []}


@pytest.mark.parametrize(
    "body",
    [
        {"image_ids": []},
        {"image_ids": [UNKNOWN] * 1001},
        {"image_ids": UNKNOWN},
        {"image_ids": [UNKNOWN, "img_nope"]},
        {"image_ids": [UNKNOWN, 7]},
        {"image_ids": [UNKNOWN], "extra": 1},
        {},
        [UNKNOWN],
    ],
)
def test_malformed_bulk_delete_is_400_and_changes_nothing(api: Api, body: object) -> None:
    live = api.upload_ok(_png(1), "keep.png")["id"]
    if isinstance(body, dict) and body.get("image_ids") == [UNKNOWN, "img_nope"]:
        body = {"image_ids": [live, "img_nope"]}
    reply = api.request("POST", "/v3/images/bulk_delete", json_body=body)
    assert (reply.status, reply.error_code) == (400, "invalid_input")
    assert api.get(f"/v3/images/{live}").status == 200


def test_not_json_is_400(api: Api) -> None:
    reply = api.request(
        "POST",
        "/v3/images/bulk_delete",
        data=b"image_ids=1",
        headers={"Content-Type": "application/json"},
    )
    assert (reply.status, reply.error_code) == (400, "invalid_input")


def test_a_thousand_ids_are_one_request(api: Api, library: Library) -> None:
    live = api.upload_ok(_png(4), "one.png")["id"]
    ids = [live] + [f"img_01JD8Z3M4K7Q2V9W5X6Y{n:06d}" for n in range(999)]
    reply = api.request("POST", "/v3/images/bulk_delete", json_body={"image_ids": ids})
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["deleted"] == [live] and len(body["not_found"]) == 999
