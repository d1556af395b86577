"""IPTC alt text over HTTP: read from an uploaded file, long_description at upload and by
PATCH, the file rewritten when the library's setting is on (said in a header), and the
caching rule once bytes behind an id can change — through Flask and a live waitress."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from imageshelf.app.library import Library, settings, xmp_read
from tests.library.xmp_samples import alt_text, caption, exiftool, make, pixels, xmp_packet
from tests.server.http_helpers import Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"


def test_upload_reads_alt_text_from_the_file_and_never_a_caption(api: Api) -> None:
    described = api.upload_ok(make("jpeg", xmp_packet(alt_text("From Bridge"))), "a.jpg")
    assert described["alt_text"] == "From Bridge"
    captioned = api.upload_ok(make("jpeg", xmp_packet(caption("Only a caption")), seed=2))
    assert captioned["alt_text"] is None
    given = api.upload(
        make("png", xmp_packet(alt_text("In the file")), seed=3),
        "b.png",
        alt_text="",
    ).json()
    assert given["alt_text"] == ""  # decorative was given: the file's text is not taken


def test_long_description_at_upload_and_by_patch(api: Api) -> None:
    made = api.request(
        "POST",
        "/v3/images",
        files={"file": ("c.png", make("png", seed=4))},
        form={"long_description": "A long one."},
    )
    assert made.status == 201, made.body
    image = made.json()
    assert image["long_description"] == "A long one."
    too_long = api.request(
        "POST",
        "/v3/images",
        files={"file": ("d.png", make("png", seed=5))},
        form={"long_description": "x" * 10_001},
    )
    assert too_long.status == 400 and too_long.error_code == "invalid_long_description"
    patched = api.request(
        "PATCH", f"/v3/images/{image['id']}", json_body={"long_description": "Changed"}
    )
    assert patched.status == 200 and patched.json()["long_description"] == "Changed"
    assert patched.headers["Imageshelf-File-Metadata"] == "off"
    bad = api.request(
        "PATCH", f"/v3/images/{image['id']}", json_body={"long_description": "x" * 10_001}
    )
    assert bad.status == 400 and bad.error_code == "invalid_long_description"
    wrong_type = api.request(
        "PATCH", f"/v3/images/{image['id']}", json_body={"long_description": 5}
    )
    assert wrong_type.status == 400
    cleared = api.request(
        "PATCH", f"/v3/images/{image['id']}", json_body={"long_description": None}
    )
    assert cleared.json()["long_description"] is None


# Team: alt text is not written into objects in an S3 store ('not_writable'), so the
# bytes behind the id never change there; the folder library's own behaviour.
@pytest.mark.folder_only
def test_bare_link_revalidates_and_a_versioned_link_is_immutable(
    api: Api, library: Library
) -> None:
    original = make("webp-lossy", seed=6)
    image = api.upload_ok(original, "e.webp")
    link = f"/i/{image['id']}"
    first = api.get(link, auth=False)
    assert first.headers["Cache-Control"] == REVALIDATE
    old_etag = first.headers["ETag"]
    old_version = old_etag.strip('"')[:16]
    pinned = api.get(link, query={"v": old_version}, auth=False)
    assert pinned.headers["Cache-Control"] == IMMUTABLE and pinned.body == original
    thumb = api.get(link, query={"variant": "thumbnail", "v": old_version}, auth=False)
    assert thumb.headers["Cache-Control"] == IMMUTABLE

    # Alt text written into the file changes the bytes behind the id.
    settings.put(library, settings.WRITE_ALT_TEXT_TO_FILES, True)
    patched = api.request("PATCH", f"/v3/images/{image['id']}", json_body={"alt_text": "Dunes"})
    assert patched.headers["Imageshelf-File-Metadata"] == "written"
    assert patched.json()["size"] > image["size"]

    # A cache revalidating the bare link with the old ETag gets the new bytes.
    fresh = api.get(link, headers={"If-None-Match": old_etag}, auth=False)
    assert fresh.status == 200 and fresh.headers["ETag"] != old_etag
    assert fresh.headers["Cache-Control"] == REVALIDATE
    assert pixels(fresh.body) == pixels(original)
    packet = xmp_read.packet_from_bytes(fresh.body, "image/webp")
    assert xmp_read.describe_packet(packet).alt_text == "Dunes"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "served.webp"
        path.write_bytes(fresh.body)
        assert (
            exiftool(str(path), "-XMP-iptcCore:AltTextAccessibility")["AltTextAccessibility"]
            == "Dunes"
        )
    # The old version is no longer pinned: it answers with the current bytes, revalidated.
    stale = api.get(link, query={"v": old_version}, auth=False)
    assert stale.body == fresh.body and stale.headers["Cache-Control"] == REVALIDATE
    new_version = fresh.headers["ETag"].strip('"')[:16]
    again = api.get(link, query={"v": new_version}, auth=False)
    assert again.headers["Cache-Control"] == IMMUTABLE
    not_modified = api.get(
        link,
        query={"v": new_version},
        headers={"If-None-Match": fresh.headers["ETag"]},
        auth=False,
    )
    assert not_modified.status == 304 and not_modified.headers["Cache-Control"] == IMMUTABLE
    ranged = api.get(link, query={"v": new_version}, headers={"Range": "bytes=0-9"}, auth=False)
    assert ranged.status == 206 and ranged.headers["Cache-Control"] == IMMUTABLE


def test_gif_write_back_is_said_so(api: Api, library: Library) -> None:
    data = make("gif")
    image = api.upload_ok(data, "f.gif")
    settings.put(library, settings.WRITE_ALT_TEXT_TO_FILES, True)
    patched = api.request("PATCH", f"/v3/images/{image['id']}", json_body={"alt_text": "Spin"})
    assert patched.status == 200 and patched.json()["alt_text"] == "Spin"
    assert patched.headers["Imageshelf-File-Metadata"] == "not_writable"
    assert api.get(f"/i/{image['id']}", auth=False).body == data
