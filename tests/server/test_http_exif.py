"""``include=exif`` and ``include=exif,location`` on one image and on listings, and
``sort=taken``, through the Flask client and a live waitress server."""

from __future__ import annotations

import pytest

from tests.exif_samples import camera_jpeg, hostile_blocks, jpeg_with_app1, plain_jpeg, xmp_gps
from tests.server.http_helpers import IMAGE_FIELDS, Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

NULL_EXIF = {
    "make": None,
    "model": None,
    "lens_model": None,
    "taken_at": None,
    "exposure_time": None,
    "f_number": None,
    "iso": None,
    "focal_length_mm": None,
    "orientation": None,
    "has_location": False,
}


def test_include_exif_on_one_image(api: Api) -> None:
    made = api.upload_ok(camera_jpeg(gps=(48.8582, 2.2945, 35.0)))
    assert "exif" not in made  # only when asked for
    plain = api.get(f"/v3/images/{made['id']}").json()
    assert list(plain) == IMAGE_FIELDS
    body = api.get(f"/v3/images/{made['id']}", query={"include": "exif"}).json()
    assert list(body) == [*IMAGE_FIELDS, "exif"]
    assert body["exif"] == {
        "make": "Canon",
        "model": "Canon EOS R5",
        "lens_model": "RF24-105mm F4 L IS USM",
        "taken_at": "2026-04-23T10:00:00+02:00",
        "exposure_time": "1/250",
        "f_number": 2.8,
        "iso": 400,
        "focal_length_mm": 50.0,
        "orientation": 1,
        "has_location": True,
    }


def test_include_exif_location(api: Api) -> None:
    made = api.upload_ok(camera_jpeg(gps=(-33.8568, 151.2153, 58.0)))
    body = api.get(f"/v3/images/{made['id']}", query={"include": "exif,location"}).json()
    location = body["exif"]["location"]
    assert location["latitude"] == pytest.approx(-33.8568, abs=1e-6)
    assert location["longitude"] == pytest.approx(151.2153, abs=1e-6)
    assert location["altitude_m"] == 58.0
    # Repeated instead of comma-separated, in the other order: the same.
    again = api.get(f"/v3/images/{made['id']}?include=location&include=exif").json()
    assert again["exif"] == body["exif"]


def test_no_location_is_null_and_no_exif_is_nulls(api: Api) -> None:
    made = api.upload_ok(plain_jpeg())
    body = api.get(f"/v3/images/{made['id']}", query={"include": "exif,location"}).json()
    assert body["exif"] == NULL_EXIF | {"location": None}


def test_taken_at_without_offset_is_local_never_z(api: Api) -> None:
    made = api.upload_ok(camera_jpeg(offset=None, subsec="25"))
    body = api.get(f"/v3/images/{made['id']}", query={"include": "exif"}).json()
    assert body["exif"]["taken_at"] == "2026-04-23T10:00:00.25"


def test_gps_only_in_xmp(api: Api) -> None:
    made = api.upload_ok(plain_jpeg(xmp=xmp_gps("48,51.4920N", "2,17.6700E")))
    body = api.get(f"/v3/images/{made['id']}", query={"include": "exif,location"}).json()
    assert body["exif"]["has_location"] is True
    assert body["exif"]["make"] is None
    assert body["exif"]["location"]["latitude"] == pytest.approx(48.8582, abs=1e-6)
    assert body["exif"]["location"]["altitude_m"] is None


def test_listings_include_exif_for_every_item(api: Api) -> None:
    api.upload_ok(camera_jpeg(seed=1))
    api.upload_ok(plain_jpeg(seed=2), "plain.jpg")
    body = api.get("/v3/images", query={"include": "exif"}).json()
    assert [item["exif"]["model"] for item in body["result"]] == [None, "Canon EOS R5"]
    assert all("location" not in item["exif"] for item in body["result"])
    assert all("exif" not in item for item in api.get("/v3/images").json()["result"])


@pytest.mark.parametrize("include", ["gps", "exif,gps", "location", "EXIF"])
def test_unknown_include_is_refused(api: Api, include: str) -> None:
    made = api.upload_ok(plain_jpeg())
    for path in (f"/v3/images/{made['id']}", "/v3/images"):
        reply = api.get(path, query={"include": include})
        assert reply.status == 400
        assert reply.error_code == "invalid_parameter"


@pytest.mark.parametrize("name", list(hostile_blocks()))
def test_hostile_exif_is_accepted_with_nulls(api: Api, name: str) -> None:
    reply = api.upload(jpeg_with_app1(hostile_blocks()[name]))
    assert reply.status == 201, reply.body
    body = api.get(f"/v3/images/{reply.json()['id']}", query={"include": "exif"}).json()
    expected = dict(NULL_EXIF)
    # Entries that are there and intact are read; the damage around them is not.
    if name == "zero denominators and nonsense dates":
        expected["orientation"] = 3
    if name == "huge entry count":  # claims 65,535 entries, holds one: orientation 6
        expected["orientation"] = 6
    assert body["exif"] == expected


def test_sort_taken(api: Api) -> None:
    undated = api.upload_ok(plain_jpeg(seed=1), "undated.jpg")
    old = api.upload_ok(camera_jpeg(seed=2, taken="2020:05:01 12:00:00"))
    new = api.upload_ok(camera_jpeg(seed=3, taken="2024:05:01 12:00:00", offset="+09:00"))
    tie = api.upload_ok(camera_jpeg(seed=4, taken="2024:05:01 12:00:00", offset="-07:00"))
    undated_2 = api.upload_ok(plain_jpeg(seed=5), "undated-2.jpg")
    body = api.get("/v3/images", query={"sort": "taken", "include": "exif"}).json()
    assert [i["id"] for i in body["result"]] == [
        tie["id"],
        new["id"],
        old["id"],
        undated_2["id"],
        undated["id"],
    ]
    assert [i["exif"]["taken_at"] for i in body["result"][:2]] == [
        "2024-05-01T12:00:00-07:00",
        "2024-05-01T12:00:00+09:00",
    ]
    second = api.get("/v3/images", query={"sort": "taken", "page": "2", "page_size": "2"})
    assert [i["id"] for i in second.json()["result"]] == [old["id"], undated_2["id"]]


def test_exif_responses_match_the_document(api: Api) -> None:
    from tests.server.test_http_openapi import conforms

    coll, item = "/v3/images", "/v3/images/{image_id}"
    located = api.upload_ok(camera_jpeg(seed=1, gps=(1.0, 2.0, None), subsec="5"))
    api.upload_ok(plain_jpeg(seed=2), "plain.jpg")
    for include in ("exif", "exif,location"):
        conforms(api.get(f"/v3/images/{located['id']}", query={"include": include}), item, "get")
        conforms(api.get(coll, query={"include": include, "sort": "taken"}), coll, "get")
    conforms(api.get(coll, query={"include": "gps"}), coll, "get")


def _walk(api: Api, limit: int, direction: str = "after", **query: str) -> list[str]:
    """Every id, page by page with cursors: forwards from the first page (``after``), or
    backwards from the last one found that way (``before``)."""
    body = api.get("/v3/images", query={"limit": str(limit), **query}).json()
    pages = [body]
    while body["page_info"]["has_next_page"]:
        cursor = body["page_info"]["end_cursor"]
        body = api.get("/v3/images", query={"limit": str(limit), "after": cursor, **query}).json()
        pages.append(body)
        assert len(pages) < 100
    if direction == "after":
        return [i["id"] for p in pages for i in p["result"]]
    back = [pages[-1]]
    while back[-1]["page_info"]["has_previous_page"]:
        cursor = back[-1]["page_info"]["start_cursor"]
        back.append(
            api.get("/v3/images", query={"limit": str(limit), "before": cursor, **query}).json()
        )
        assert len(back) < 100
    return [i["id"] for p in reversed(back) for i in p["result"]]


def test_cursors_walk_sort_taken_across_ties_and_into_the_undated(api: Api) -> None:
    made = []
    dates = ["2024:05:01 12:00:00", None, "2020:01:01 00:00:00", "2024:05:01 12:00:00", None]
    for n, taken in enumerate(dates * 2):
        data = camera_jpeg(seed=n, taken=taken) if taken else plain_jpeg(seed=n)
        made.append(api.upload_ok(data, f"p{n}.jpg"))
    paged = [i["id"] for i in api.get("/v3/images", query={"sort": "taken"}).json()["result"]]
    for limit in (1, 3, 4):
        assert _walk(api, limit, sort="taken") == paged, limit
        assert _walk(api, limit, "before", sort="taken") == paged, limit
    assert len(paged) == len(made)


def test_a_taken_walk_while_images_land_has_no_duplicate_and_no_gap(api: Api) -> None:
    for n in range(6):
        data = camera_jpeg(seed=n, taken=f"202{n}:01:01 10:00:00") if n % 2 else plain_jpeg(n)
        api.upload_ok(data, f"before{n}.jpg")
    before = [i["id"] for i in api.get("/v3/images", query={"sort": "taken"}).json()["result"]]
    first = api.get("/v3/images", query={"sort": "taken", "limit": "2"}).json()
    seen = [i["id"] for i in first["result"]]
    body = first
    n = 100
    while body["page_info"]["has_next_page"]:
        # New images land everywhere in the order: dated between, undated newest.
        n += 1
        data = camera_jpeg(seed=n, taken="2022:06:01 10:00:00") if n % 2 else plain_jpeg(n)
        api.upload_ok(data, f"during{n}.jpg")
        cursor = body["page_info"]["end_cursor"]
        body = api.get("/v3/images", query={"sort": "taken", "limit": "2", "after": cursor}).json()
        seen += [i["id"] for i in body["result"]]
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in before] == before
