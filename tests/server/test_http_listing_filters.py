"""Contract Part 2, "Listing: more filters and sorts", through the real server: ``sort``
validation, ``undescribed``, ``recursive``, ``ids`` and ``meta.KEY=VALUE`` (``sort=taken``
is exif16's). Each filter is also checked in cursor mode, which reads the same SQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import image_bytes
from tests.server.http_helpers import Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

_n = 0


def _add(api: Api, name: str = "a.png", **kw: Any) -> dict[str, Any]:
    global _n
    _n += 1
    meta = kw.pop("meta", None)
    if meta is not None:
        kw["custom_metadata"] = json.dumps(meta)
    return api.upload_ok(image_bytes("PNG", color=(_n % 256, _n // 256, 7)), name, **kw)


def _ids(api: Api, path: str = "/v3/images", **query: str) -> list[str]:
    reply = api.get(path, query=query or None)
    assert reply.status == 200, reply.body
    page_ids = [r["id"] for r in reply.json()["result"]]
    if "limit" not in query and "page" not in query and "?" not in path:
        # The same filter in cursor mode answers the same images.
        cursor = api.get(path, query={**query, "limit": "100"})
        assert cursor.status == 200, cursor.body
        assert [r["id"] for r in cursor.json()["result"]] == page_ids
        assert cursor.json()["total"] == reply.json()["total"] == len(page_ids)
    return page_ids


def _error(api: Api, path: str = "/v3/images", **query: str) -> str:
    reply = api.get(path, query=query or None)
    assert reply.status == 400, reply.body
    return reply.error_code


@pytest.mark.parametrize("sort", ["", "NEWEST", "random", "taken ", "created_at"])
def test_an_unknown_sort_is_invalid_parameter(api: Api, sort: str) -> None:
    assert _error(api, sort=sort) == "invalid_parameter"
    assert _error(api, sort=sort, limit="5") == "invalid_parameter"


def test_sorts(api: Api) -> None:
    b = _add(api, "b.png")
    a = _add(api, "A.png")
    c = _add(api, "c.png")
    assert _ids(api) == [c["id"], a["id"], b["id"]]
    assert _ids(api, sort="newest") == [c["id"], a["id"], b["id"]]
    assert _ids(api, sort="oldest") == [b["id"], a["id"], c["id"]]
    assert _ids(api, sort="name") == [a["id"], b["id"], c["id"]]


@pytest.mark.parametrize("name", ["undescribed", "recursive"])
@pytest.mark.parametrize("value", ["yes", "1", "TRUE", ""])
def test_flags_are_true_or_false(api: Api, name: str, value: str) -> None:
    assert _error(api, **{name: value}) == "invalid_parameter"


def test_undescribed_and_recursive(api: Api) -> None:
    top = _add(api, folder="clients", alt_text="A")
    deep = _add(api, folder="clients/acme")
    deeper = _add(api, folder="clients/acme/2026", alt_text="")
    other = _add(api, folder="clientsx")
    root = _add(api)
    assert _ids(api, folder="clients") == [top["id"]]
    assert _ids(api, folder="clients", recursive="true") == [deeper["id"], deep["id"], top["id"]]
    assert _ids(api, folder="clients", recursive="false") == [top["id"]]
    assert _ids(api, folder="clients/acme", recursive="true") == [deeper["id"], deep["id"]]
    everything = [root["id"], other["id"], deeper["id"], deep["id"], top["id"]]
    assert _ids(api, recursive="true") == everything  # without folder it changes nothing
    assert _ids(api, undescribed="false") == everything
    assert _ids(api, undescribed="true") == [root["id"], other["id"], deep["id"]]
    assert _ids(api, folder="clients", recursive="true", undescribed="true") == [deep["id"]]


def test_ids_narrow_and_combine_with_the_other_filters(api: Api) -> None:
    a = _add(api, folder="brand")
    b = _add(api, folder="brand", alt_text="described")
    c = _add(api)
    gone = _add(api)
    assert api.request("DELETE", f"/v3/images/{gone['id']}").status == 204
    unknown = "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"
    wanted = f"{a['id']},{c['id']},{gone['id']},{unknown},{a['id']}"
    assert _ids(api, ids=wanted) == [c["id"], a["id"]]  # repeats once, unknown/deleted absent
    assert _ids(api, ids=wanted, folder="brand") == [a["id"]]
    assert _ids(api, ids=f"{a['id']},{b['id']}", undescribed="true") == [a["id"]]
    # Repeated `ids`, mixed with commas; spaces around an id are forgiven.
    repeated = f"/v3/images?ids={a['id']}&ids={b['id']},%20{c['id']}"
    reply = api.get(repeated)
    assert reply.status == 200, reply.body
    assert [r["id"] for r in reply.json()["result"]] == [c["id"], b["id"], a["id"]]
    assert reply.json()["total"] == 3
    cursor = api.get(repeated + "&limit=2").json()
    assert [r["id"] for r in cursor["result"]] == [c["id"], b["id"]]
    assert cursor["total"] == 3 and cursor["page_info"]["has_next_page"] is True


@pytest.mark.parametrize(
    "ids",
    [
        "",
        "img_1",
        "nope",
        "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9b",  # lower case is not Crockford upper case
        "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B,",
        ",img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B",
        "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B;img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9C",
    ],
)
def test_a_malformed_id_is_invalid_parameter(api: Api, ids: str) -> None:
    assert _error(api, ids=ids) == "invalid_parameter"


def _fake_ids(n: int) -> list[str]:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return [f"img_01JD8Z3M4K7Q2V9W5X6Y7Z8A{alphabet[i // 32]}{alphabet[i % 32]}" for i in range(n)]


def test_at_most_100_ids(api: Api) -> None:
    made = _add(api)
    hundred = [made["id"], *_fake_ids(99)]
    assert _ids(api, ids=",".join(hundred)) == [made["id"]]
    # The 100 again count once; a 101st different one is refused.
    assert _ids(api, ids=",".join(hundred + hundred)) == [made["id"]]
    assert _error(api, ids=",".join(hundred + _fake_ids(101)[100:])) == "invalid_parameter"
    repeated = "&".join(f"ids={i}" for i in [*hundred, *_fake_ids(101)[100:]])
    assert _error(api, f"/v3/images?{repeated}") == "invalid_parameter"


def test_meta_matches_strings_exactly_and_numbers_and_booleans_read_from_the_value(
    api: Api,
) -> None:
    text12 = _add(api, meta={"code": "12", "sku": "A-1", "print": True})
    num12 = _add(api, meta={"code": 12, "sku": "a-1", "print": False})
    real = _add(api, meta={"code": 12.0, "ratio": 1.5, "print": "true"})
    none = _add(api)
    assert _ids(api, **{"meta.code": "12"}) == [real["id"], num12["id"], text12["id"]]
    assert _ids(api, **{"meta.code": "12.0"}) == [real["id"], num12["id"]]
    assert _ids(api, **{"meta.code": "012"}) == []  # not a number; no string "012"
    assert _ids(api, **{"meta.sku": "A-1"}) == [text12["id"]]  # case-sensitive
    assert _ids(api, **{"meta.sku": "a-1"}) == [num12["id"]]
    assert _ids(api, **{"meta.ratio": "1.5"}) == [real["id"]]
    assert _ids(api, **{"meta.ratio": "15e-1"}) == [real["id"]]
    assert _ids(api, **{"meta.print": "true"}) == [real["id"], text12["id"]]
    assert _ids(api, **{"meta.print": "false"}) == [num12["id"]]
    assert _ids(api, **{"meta.print": "1"}) == []  # a boolean is not the number 1
    assert _ids(api, **{"meta.nothing": "x"}) == []
    assert _ids(api, **{"meta.code": "12", "meta.print": "true"}) == [real["id"], text12["id"]]
    assert _ids(api, **{"meta.code": "12", "meta.sku": "a-1"}) == [num12["id"]]
    assert none["custom_metadata"] == {}


def test_meta_filters_follow_changes_and_the_trash(api: Api) -> None:
    image = _add(api, meta={"sku": "A"})
    assert _ids(api, **{"meta.sku": "A"}) == [image["id"]]
    patch = {"custom_metadata": {"sku": "B"}}
    assert api.request("PATCH", f"/v3/images/{image['id']}", json_body=patch).status == 200
    assert _ids(api, **{"meta.sku": "A"}) == []
    assert _ids(api, **{"meta.sku": "B"}) == [image["id"]]
    assert api.request("DELETE", f"/v3/images/{image['id']}").status == 204
    assert _ids(api, **{"meta.sku": "B"}) == []
    restored = api.request("POST", f"/v3/trash/{image['id']}/restore")
    assert restored.status == 200, restored.body
    assert restored.json()["custom_metadata"] == {"sku": "B"}
    assert _ids(api, **{"meta.sku": "B"}) == [image["id"]]


def test_at_most_5_meta_filters_and_keys_must_be_keys(api: Api) -> None:
    five = {f"meta.k{i}": "v" for i in range(5)}
    assert _ids(api, **five) == []
    assert _error(api, **five, **{"meta.k5": "v"}) == "invalid_parameter"
    assert _error(api, **{"meta.": "v"}) == "invalid_parameter"
    assert _error(api, **{"meta..x": "v"}) == "invalid_parameter"
    assert _error(api, **{"meta.-x": "v"}) == "invalid_parameter"
    assert _error(api, **{"meta." + "k" * 41: "v"}) == "invalid_parameter"
    assert _error(api, "/v3/images?meta.a=1&meta.a=2") == "invalid_parameter"
