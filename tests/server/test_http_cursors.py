"""Contract Part 2, "Listing: cursors", through the real server (Flask's client and a live
waitress): keyset pages with ``limit`` + ``after``/``before``, ``page_info`` true however
a page was reached, cursors bound to the filters and sort they were made for, no
duplicate and no gap while images are added during a walk."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import image_bytes
from tests.server.http_helpers import Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

SORTS = ("newest", "oldest", "name")


def _upload_many(api: Api, n: int, start: int = 0, **kw: Any) -> list[dict[str, Any]]:
    # Distinct bytes each (a colour per image); names that sort differently from time.
    return [
        api.upload_ok(
            image_bytes("PNG", color=(i % 256, (i * 7) % 256, 90)),
            f"{'zyxwvutsrqponmlkjihgfedcba'[i % 26]}{i:03d}.png",
            **kw,
        )
        for i in range(start, start + n)
    ]


def _page(api: Api, **query: str) -> dict[str, Any]:
    reply = api.get("/v3/images", query=query)
    assert reply.status == 200, reply.body
    body = reply.json()
    assert set(body) == {"result", "total", "page_info"}
    return body


def _walk(api: Api, limit: int, **query: str) -> list[dict[str, Any]]:
    pages = [_page(api, limit=str(limit), **query)]
    while pages[-1]["page_info"]["has_next_page"]:
        after = pages[-1]["page_info"]["end_cursor"]
        pages.append(_page(api, limit=str(limit), after=after, **query))
        assert len(pages) < 100
    return pages


def _ids(page: dict[str, Any]) -> list[str]:
    return [r["id"] for r in page["result"]]


def _error(api: Api, **query: str) -> str:
    reply = api.get("/v3/images", query=query)
    assert reply.status == 400, reply.body
    return reply.error_code


@pytest.mark.parametrize("sort", SORTS)
def test_a_walk_after_after_is_the_page_mode_order(api: Api, sort: str) -> None:
    _upload_many(api, 11)
    whole = api.get("/v3/images", query={"sort": sort, "page_size": "100"}).json()
    pages = _walk(api, 4, sort=sort)
    assert [len(p["result"]) for p in pages] == [4, 4, 3]
    assert [i for p in pages for i in _ids(p)] == [r["id"] for r in whole["result"]]
    assert all(p["total"] == 11 for p in pages)
    infos = [p["page_info"] for p in pages]
    assert [i["has_previous_page"] for i in infos] == [False, True, True]
    assert [i["has_next_page"] for i in infos] == [True, True, False]
    for p in pages:
        assert p["page_info"]["start_cursor"] and p["page_info"]["end_cursor"]


@pytest.mark.parametrize("sort", SORTS)
def test_before_gives_back_the_same_pages_as_after(api: Api, sort: str) -> None:
    _upload_many(api, 10)
    forward = _walk(api, 3, sort=sort)
    # From the last page back to the first with before=start_cursor: the same pages, the
    # same page_info (has_next/has_previous do not depend on how a page was reached).
    back = [forward[-1]]
    while back[-1]["page_info"]["has_previous_page"]:
        before = back[-1]["page_info"]["start_cursor"]
        back.append(_page(api, limit="3", before=before, sort=sort))
    back.reverse()
    # The first page read backwards is a full page ending where page 2 starts.
    assert [_ids(p) for p in back[1:]] == [_ids(p) for p in forward[1:]]
    assert _ids(back[0]) == _ids(forward[0])
    assert [p["page_info"] for p in back] == [p["page_info"] for p in forward]


def test_limit_may_change_between_pages_and_an_empty_page_has_null_cursors(api: Api) -> None:
    made = _upload_many(api, 5)
    first = _page(api, limit="2")
    rest = _page(api, limit="10", after=first["page_info"]["end_cursor"])
    assert _ids(first) + _ids(rest) == [m["id"] for m in reversed(made)]
    assert rest["page_info"] == {
        "has_next_page": False,
        "has_previous_page": True,
        "start_cursor": rest["page_info"]["start_cursor"],
        "end_cursor": rest["page_info"]["end_cursor"],
    }
    past = _page(api, limit="2", after=rest["page_info"]["end_cursor"])
    assert past["result"] == [] and past["total"] == 5
    assert past["page_info"] == {
        "has_next_page": False,
        "has_previous_page": True,
        "start_cursor": None,
        "end_cursor": None,
    }


def test_an_empty_library_answers_one_empty_page(api: Api) -> None:
    for page in (_page(api, limit="5"), _page(api, limit="5", sort="name")):
        assert page["result"] == [] and page["total"] == 0
        assert page["page_info"] == {
            "has_next_page": False,
            "has_previous_page": False,
            "start_cursor": None,
            "end_cursor": None,
        }


def test_a_cursor_whose_image_was_deleted_still_points_between_its_neighbours(
    api: Api,
) -> None:
    made = _upload_many(api, 6)  # newest first: made[5] .. made[0]
    first = _page(api, limit="3")
    assert _ids(first) == [made[5]["id"], made[4]["id"], made[3]["id"]]
    assert api.request("DELETE", f"/v3/images/{made[3]['id']}").status == 204
    nxt = _page(api, limit="3", after=first["page_info"]["end_cursor"])
    assert _ids(nxt) == [made[2]["id"], made[1]["id"], made[0]["id"]]
    assert nxt["page_info"]["has_previous_page"] is True


@pytest.mark.parametrize("sort", SORTS)
def test_a_walk_while_images_are_added_has_no_duplicate_and_no_gap(api: Api, sort: str) -> None:
    existing = {m["id"] for m in _upload_many(api, 12)}
    seen: list[str] = []
    page = _page(api, limit="4", sort=sort)
    added = 0
    while True:
        seen += _ids(page)
        # Images land between every two pages: two per page, names spread across the
        # alphabet so that under sort=name they fall before and after the cursor.
        _upload_many(api, 2, start=100 + added)
        added += 2
        if not page["page_info"]["has_next_page"]:
            break
        page = _page(api, limit="4", sort=sort, after=page["page_info"]["end_cursor"])
        assert added < 40
    assert len(seen) == len(set(seen)), "an image came twice"
    assert existing <= set(seen), "an image that existed when the walk began was skipped"
    if sort == "newest":  # newer images go in front of the walk: none is met
        assert set(seen) == existing


@pytest.mark.parametrize(
    "other",
    [
        {"folder": "brand"},
        {"folder": ""},
        {"folder": "brand", "recursive": "true"},
        {"search": "png"},
        {"undescribed": "true"},
        {"ids": "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"},
        {"meta.sku": "A"},
        {"sort": "oldest"},
        {"sort": "name"},
    ],
)
def test_a_cursor_is_bound_to_its_filters_and_sort(api: Api, other: dict[str, str]) -> None:
    _upload_many(api, 3, folder="brand")
    first = _page(api, limit="1")  # every folder, no filter, newest
    cursor = first["page_info"]["end_cursor"]
    for name in ("after", "before"):
        reply = api.get("/v3/images", query={"limit": "1", name: cursor, **other})
        assert reply.status == 400, (other, reply.body)
        assert reply.error_code == "invalid_cursor"
    # The same filters (limit changed, undescribed=false and recursive=false being no
    # filter at all) accept it.
    same = {"undescribed": "false", "recursive": "false", "limit": "2", "sort": "newest"}
    assert _page(api, after=cursor, **same)["result"]


def test_filters_in_another_order_or_spelling_keep_the_cursor(api: Api) -> None:
    made = _upload_many(api, 3)
    ids = [m["id"] for m in made]
    first = api.get(f"/v3/images?limit=1&ids={ids[0]},{ids[1]}&ids={ids[2]}").json()
    after = first["page_info"]["end_cursor"]
    again = api.get(f"/v3/images?ids={ids[2]},{ids[1]},{ids[0]},{ids[0]}&limit=5&after={after}")
    assert again.status == 200, again.body
    assert _ids(again.json()) == [ids[1], ids[0]]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_malformed_cursors_are_invalid_cursor(api: Api) -> None:
    _upload_many(api, 2)
    good = _page(api, limit="1")["page_info"]["end_cursor"]
    payload = json.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    forged = [
        "",
        "nope",
        "!!!!",
        good[:-3],
        good + "AAAA",
        "x" * 5000,
        _b64(b"not json"),
        _b64(b"{}"),
        _b64(b"[]"),
        _b64(json.dumps([*payload[:-1], 5]).encode()),  # the id of the wrong type
        _b64(json.dumps([*payload[:-1], "img_../../etc"]).encode()),
        _b64(json.dumps([*payload[:3], "1", payload[4]]).encode()),  # a time as text
        _b64(json.dumps([2, *payload[1:]]).encode()),  # another version
        _b64(json.dumps(payload[:-1]).encode()),  # a value short
        _b64(json.dumps([*payload, 1]).encode()),  # a value too many
        _b64(json.dumps([payload[0], payload[1], "0" * 24, *payload[3:]]).encode()),
        _b64(b"[" * 10_000),
    ]
    for cursor in forged:
        for name in ("after", "before"):
            assert _error(api, limit="1", **{name: cursor}) == "invalid_cursor", cursor


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "5", "page": "1"},
        {"limit": "5", "page_size": "5"},
        {"after": "x", "page": "2"},
        {"before": "x", "page_size": "10"},
    ],
)
def test_mixing_cursors_and_page_numbers_is_conflicting_pagination(
    api: Api, query: dict[str, str]
) -> None:
    assert _error(api, **query) == "conflicting_pagination"


def test_after_and_before_together_are_conflicting_pagination(api: Api) -> None:
    _upload_many(api, 3)
    first = _page(api, limit="1")["page_info"]
    assert (
        _error(api, after=first["end_cursor"], before=first["start_cursor"])
        == "conflicting_pagination"
    )


@pytest.mark.parametrize("limit", ["0", "101", "-1", "x", "", "1.5", "9999999999"])
def test_limit_out_of_range_or_not_a_number_is_invalid_parameter(api: Api, limit: str) -> None:
    assert _error(api, limit=limit) == "invalid_parameter"


def test_page_mode_is_unchanged(api: Api) -> None:
    _upload_many(api, 3)
    body = api.get("/v3/images", query={"page": "2", "page_size": "2"}).json()
    assert set(body) == {"result", "total", "page", "page_size"}
    assert (len(body["result"]), body["total"], body["page"], body["page_size"]) == (1, 3, 2, 2)
