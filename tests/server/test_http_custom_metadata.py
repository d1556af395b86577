"""Contract Part 2, "custom_metadata", through the real server: set at upload (multipart
field), merged by ``PATCH`` (RFC 7396), ``{}`` when none, the limits (50 keys, key
characters, 500-character strings, finite numbers, booleans, 8 KiB) applied to an upload
and to the result of a merge, and a refused request changing nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imageshelf.app.library import Library
from tests.conftest import image_bytes
from tests.server.http_helpers import Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True


def _patch(api: Api, image_id: str, body: Any) -> Any:
    return api.request("PATCH", f"/v3/images/{image_id}", json_body=body)


def test_set_at_upload_and_shown_everywhere(api: Api) -> None:
    meta = {"sku": "A-12", "count": 3, "ratio": 1.5, "print": True, "tag.x-y_z": ""}
    made = api.upload_ok(image_bytes(), custom_metadata=json.dumps(meta))
    assert made["custom_metadata"] == meta
    assert api.get(f"/v3/images/{made['id']}").json()["custom_metadata"] == meta
    listed = api.get("/v3/images").json()["result"]
    assert listed[0]["custom_metadata"] == meta
    plain = api.upload_ok(image_bytes(color=(1, 2, 3)))
    assert plain["custom_metadata"] == {}
    empty = api.upload_ok(image_bytes(color=(4, 5, 6)), custom_metadata="{}")
    assert empty["custom_metadata"] == {}


def test_patch_merges(api: Api) -> None:
    made = api.upload_ok(image_bytes(), custom_metadata='{"a": "1", "b": 2, "c": true}')
    merged = _patch(api, made["id"], {"custom_metadata": {"b": None, "c": False, "d": "new"}})
    assert merged.status == 200, merged.body
    assert merged.json()["custom_metadata"] == {"a": "1", "c": False, "d": "new"}
    assert merged.json()["updated_at"] >= made["updated_at"]
    # Absent: left as it is, while other fields change.
    alt = _patch(api, made["id"], {"alt_text": "A kite"})
    assert alt.json()["custom_metadata"] == {"a": "1", "c": False, "d": "new"}
    # Removing a key that is not there is no error; {} changes nothing.
    assert _patch(api, made["id"], {"custom_metadata": {"zz": None}}).status == 200
    same = _patch(api, made["id"], {"custom_metadata": {}})
    assert same.json()["custom_metadata"] == {"a": "1", "c": False, "d": "new"}
    cleared = _patch(api, made["id"], {"custom_metadata": None})
    assert cleared.status == 200 and cleared.json()["custom_metadata"] == {}
    assert api.get(f"/v3/images/{made['id']}").json()["custom_metadata"] == {}


BAD_OBJECTS: list[Any] = [
    [1, 2],
    "text",
    5,
    {"": "empty key"},
    {".dot": 1},
    {"-dash": 1},
    {"k" * 41: 1},
    {"sp ace": 1},
    {"é": 1},
    {"nested": {"a": 1}},
    {"list": [1]},
    {"long": "x" * 501},
    {f"k{i}": i for i in range(51)},
    {f"k{i}": "x" * 200 for i in range(45)},  # 45 keys, over 8 KiB as JSON
    {"big": 2**63},
]


@pytest.mark.parametrize("meta", BAD_OBJECTS)
def test_bad_metadata_at_upload_is_refused_and_leaves_nothing(
    api: Api, library: Library, meta: Any
) -> None:
    reply = api.upload(image_bytes(), custom_metadata=json.dumps(meta))
    assert reply.status == 400, reply.body
    assert reply.error_code == "invalid_metadata"
    assert library.list_images().total == 0
    assert not list(library.tmp_dir.iterdir())


@pytest.mark.parametrize(
    "field",
    ["not json", '{"a": NaN}', '{"a": Infinity}', '{"a": null}', "[", '{"a": 1'],
)
def test_unreadable_or_null_upload_metadata_is_invalid_metadata(
    api: Api, library: Library, field: str
) -> None:
    reply = api.upload(image_bytes(), custom_metadata=field)
    assert reply.status == 400, reply.body
    assert reply.error_code == "invalid_metadata"
    assert library.list_images().total == 0


def test_the_error_names_the_key_at_fault(api: Api) -> None:
    reply = api.upload(image_bytes(), custom_metadata=json.dumps({"ok": 1, "bad": {"x": 1}}))
    assert "'bad'" in reply.json()["error"]["message"]


def test_the_limits_hold_at_the_boundary(api: Api) -> None:
    fifty = {f"k{i:02d}": i for i in range(50)}
    assert api.upload(image_bytes(), custom_metadata=json.dumps(fifty)).status == 201
    long_key = {"k" * 40: "x" * 500}
    assert (
        api.upload(image_bytes(color=(9, 9, 9)), custom_metadata=json.dumps(long_key)).status == 201
    )


@pytest.mark.parametrize("meta", [m for m in BAD_OBJECTS if isinstance(m, dict)] + [[1], "x", 3])
def test_bad_metadata_in_a_patch_changes_nothing(api: Api, meta: Any) -> None:
    made = api.upload_ok(image_bytes(), custom_metadata='{"keep": "me"}', folder="a")
    reply = _patch(api, made["id"], {"custom_metadata": meta, "folder": "b", "alt_text": "x"})
    assert reply.status == 400, reply.body
    assert reply.error_code == "invalid_metadata"
    after = api.get(f"/v3/images/{made['id']}").json()
    assert after == made  # not moved, no alt text, same metadata, same updated_at


def test_the_limits_apply_after_the_merge(api: Api) -> None:
    full = {f"k{i:02d}": i for i in range(50)}
    made = api.upload_ok(image_bytes(), custom_metadata=json.dumps(full))
    one_more = _patch(api, made["id"], {"custom_metadata": {"k50": 1}})
    assert (one_more.status, one_more.error_code) == (400, "invalid_metadata")
    swap = _patch(api, made["id"], {"custom_metadata": {"k00": None, "k50": 1}})
    assert swap.status == 200, swap.body
    assert len(swap.json()["custom_metadata"]) == 50
    big = {f"s{i}": "x" * 420 for i in range(19)}  # 8,170 bytes as JSON: fits
    assert _patch(api, made["id"], {"custom_metadata": None}).status == 200
    assert _patch(api, made["id"], {"custom_metadata": big}).status == 200
    over = _patch(api, made["id"], {"custom_metadata": {"s19": "x" * 420}})
    assert (over.status, over.error_code) == (400, "invalid_metadata")


def test_upload_via_url_refuses_bad_metadata_before_fetching(api: Api) -> None:
    reply = api.request(
        "POST",
        "/v3/images/upload_via_url",
        json_body={"url": "http://127.0.0.1:9/x.png", "custom_metadata": {"a": None}},
    )
    assert (reply.status, reply.error_code) == (400, "invalid_metadata")
