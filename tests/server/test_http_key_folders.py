"""Keys limited to folders (the contract's "API keys and scopes"): images outside are
404 and absent from every listing-like answer (images, search, folders, trash, events,
bulk delete); uploads and moves outside are 403 outside_key_folders."""

from __future__ import annotations

from typing import Any

import pytest

from imageshelf.app.library import Library
from tests.conftest import image_bytes
from tests.server.http_helpers import Api, Reply

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True


def _img(n: int) -> bytes:
    return image_bytes("PNG", (30 + n, 20), color=(n * 37 % 256, 90, 10))


@pytest.fixture
def placed(api: Api) -> dict[str, str]:
    """Images in ``birds``, ``birds/owls``, ``birdsong`` (a prefix, not inside), the root
    and ``cats``: name → id. Each alt text holds "kite" for a search."""
    where = {"b": "birds", "owl": "birds/owls", "song": "birdsong", "root": None, "cat": "cats"}
    return {
        name: api.upload_ok(_img(i), f"{name}.png", alt_text=f"kite {name}", folder=folder)["id"]
        for i, (name, folder) in enumerate(where.items())
    }


def _as(api: Api, secret: str, method: str, path: str, **kw: Any) -> Reply:
    return api.request(
        method, path, auth=False, headers={"Authorization": f"Bearer {secret}"}, **kw
    )


def _ids(reply: Reply) -> set[str]:
    assert reply.status == 200, reply.body
    return {item["id"] for item in reply.json()["result"]}


def test_listings_show_only_the_keys_folders(
    api: Api, library: Library, placed: dict[str, str]
) -> None:
    _key, secret = library.keys.create("birder", "edit", ["birds"])
    inside = {placed["b"], placed["owl"]}
    listed = _as(api, secret, "GET", "/v3/images")
    assert _ids(listed) == inside and listed.json()["total"] == 2
    for query, expected in (
        ({"search": "kite"}, inside),  # a 3+ character term: the trigram index's path
        ({"search": "ki"}, inside),  # a short one: the scan
        ({"search": "cat"}, set()),
        ({"folder": "cats"}, set()),
        ({"folder": ""}, set()),  # the root
        ({"folder": "birds/owls"}, {placed["owl"]}),
        ({"undescribed": "true"}, set()),
        ({"page_size": "1", "page": "2"}, inside),
    ):
        reply = _as(api, secret, "GET", "/v3/images", query=query)
        got = _ids(reply)
        assert got <= expected, query
        if "page" not in query:
            assert got == expected and reply.json()["total"] == len(expected), query
    # Cursors and ids (list16's filters) keep to the folders too.
    first = _as(api, secret, "GET", "/v3/images", query={"limit": "1"}).json()
    assert first["total"] == 2 and {r["id"] for r in first["result"]} <= inside
    after = first["page_info"]["end_cursor"]
    second = _as(api, secret, "GET", "/v3/images", query={"limit": "5", "after": after}).json()
    assert {r["id"] for r in first["result"] + second["result"]} == inside
    assert not second["page_info"]["has_next_page"]
    by_id = _as(api, secret, "GET", f"/v3/images?ids={placed['cat']}&ids={placed['owl']}")
    assert _ids(by_id) == {placed["owl"]}
    folders = _as(api, secret, "GET", "/v3/images/folders").json()["folders"]
    assert folders == ["birds", "birds/owls"]
    for outside in ("song", "root", "cat"):
        for method in ("GET", "DELETE"):
            reply = _as(api, secret, method, f"/v3/images/{placed[outside]}")
            assert reply.status == 404, (outside, method)
        patch = _as(
            api, secret, "PATCH", f"/v3/images/{placed[outside]}", json_body={"alt_text": "x"}
        )
        assert patch.status == 404
    assert _as(api, secret, "GET", f"/v3/images/{placed['owl']}").status == 200


def test_trash_events_and_bulk_delete_within_the_folders(
    api: Api, library: Library, placed: dict[str, str]
) -> None:
    _key, secret = library.keys.create("birder", "edit", ["birds"])
    since = library.changes.latest()
    result = _as(
        api,
        secret,
        "POST",
        "/v3/images/bulk_delete",
        json_body={"image_ids": [placed["b"], placed["cat"]]},
    ).json()
    assert result == {"deleted": [placed["b"]], "already_deleted": [], "not_found": [placed["cat"]]}
    assert library.get(placed["cat"]).folder == "cats"  # untouched
    assert api.request("DELETE", f"/v3/images/{placed['song']}").status == 204  # by the admin

    assert _ids(_as(api, secret, "GET", "/v3/trash")) == {placed["b"]}
    assert _as(api, secret, "GET", "/v3/trash").json()["total"] == 1
    assert _ids(api.get("/v3/trash")) == {placed["b"], placed["song"]}
    assert _as(api, secret, "POST", f"/v3/trash/{placed['song']}/restore").status == 404
    assert _as(api, secret, "GET", f"/v3/images/{placed['song']}").status == 404  # not 410

    events = _as(api, secret, "GET", "/v3/events", query={"since": str(since)}).json()["events"]
    assert [e["id"] for e in events] == [placed["b"]]
    everyone = api.get("/v3/events", query={"since": str(since)}).json()["events"]
    assert {e["id"] for e in everyone} == {placed["b"], placed["song"]}
    assert _as(api, secret, "POST", f"/v3/trash/{placed['b']}/restore").status == 200


def test_uploads_and_moves_outside_are_403(
    api: Api, library: Library, placed: dict[str, str]
) -> None:
    _key, secret = library.keys.create("birder", "edit", ["birds"])
    for folder in ("cats", "", "birdsong", "birds/../cats"):
        reply = _as(
            api,
            secret,
            "POST",
            "/v3/images",
            files={"file": ("n.png", _img(9))},
            form={"folder": folder},
        )
        assert reply.status in (400, 403), (folder, reply.body)
        if folder != "birds/../cats":  # that one is not a folder at all: 400
            assert reply.error_code == "outside_key_folders", folder
    reply = _as(api, secret, "POST", "/v3/images", files={"file": ("n.png", _img(9))})
    assert (reply.status, reply.error_code) == (403, "outside_key_folders")  # the root
    made = _as(
        api,
        secret,
        "POST",
        "/v3/images",
        files={"file": ("n.png", _img(9))},
        form={"folder": "birds/new"},
    )
    assert made.status == 201, made.body

    owl = f"/v3/images/{placed['owl']}"
    for target in ("cats", None):
        reply = _as(api, secret, "PATCH", owl, json_body={"folder": target})
        assert (reply.status, reply.error_code) == (403, "outside_key_folders")
    assert library.get(placed["owl"]).folder == "birds/owls"
    assert _as(api, secret, "PATCH", owl, json_body={"folder": "birds"}).status == 200
    url = _as(
        api,
        secret,
        "POST",
        "/v3/images/upload_via_url",
        json_body={"url": "http://127.0.0.1:9/x.png", "folder": "cats"},
    )
    assert (url.status, url.error_code) == (403, "outside_key_folders")
    assert sum(1 for _ in library.list_images(folder="cats").items) == 1


def test_downloads_and_shares_within_the_folders(
    api: Api, library: Library, placed: dict[str, str]
) -> None:
    _key, secret = library.keys.create("birder", "edit", ["birds"])
    job = _as(
        api,
        secret,
        "POST",
        "/v3/images/downloads",
        json_body={"image_ids": [placed["b"], placed["cat"]]},
    )
    assert job.status == 202, job.body
    assert job.json()["missing"] == [placed["cat"]] and job.json()["count"] == 1
    folder_job = _as(api, secret, "POST", "/v3/images/downloads", json_body={"folder": "cats"})
    assert folder_job.status == 404

    for body in ({"folder": "cats"}, {"folder": ""}, {"image_ids": [placed["cat"]]}):
        assert _as(api, secret, "POST", "/v3/shares", json_body=body).status == 404, body
    mine = _as(api, secret, "POST", "/v3/shares", json_body={"folder": "birds", "recursive": True})
    assert mine.status == 201, mine.body
    theirs = api.request("POST", "/v3/shares", json_body={"folder": "cats"}).json()
    listed = _as(api, secret, "GET", "/v3/shares").json()
    assert [s["id"] for s in listed["result"]] == [mine.json()["id"]]
    assert len(api.get("/v3/shares").json()["result"]) == 2
    assert _as(api, secret, "DELETE", f"/v3/shares/{theirs['id']}").status == 404
    assert _as(api, secret, "DELETE", f"/v3/shares/{mine.json()['id']}").status == 204
