"""File parts are streamed straight into the library's ``tmp/`` (a team library's: its
storage's staging folder) while the body is parsed (``server/uploads.py``): whatever goes
wrong after a part started — a refused field, a second file part, a body cut off
mid-part, the 10 MiB limit — nothing stays there, and what is stored is byte for byte
what was sent."""

from __future__ import annotations

import hashlib

import pytest

from imageshelf.app.library import Library
from tests.conftest import image_bytes
from tests.server.http_helpers import Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True


def test_the_stored_file_and_record_are_what_was_sent(api: Api, library: Library) -> None:
    content = image_bytes("JPEG", (1200, 900))
    made = api.upload_ok(content, "Sent ñ.jpg", alt_text="A kite", folder="sky")
    assert api.get(f"/i/{made['id']}").body == content
    assert made["size"] == len(content)
    assert (made["width"], made["height"]) == (1200, 900)
    assert library.get(made["id"]).sha256 == hashlib.sha256(content).hexdigest()
    assert api.get(f"/v3/images/{made['id']}").json() == made
    assert list(library.tmp_dir.iterdir()) == []


@pytest.mark.parametrize("form", [{"folder": "../up"}, {"alt_text": "\x00"}])
def test_a_refused_field_after_the_file_part_leaves_nothing(
    api: Api, library: Library, form: dict[str, str]
) -> None:
    reply = api.request("POST", "/v3/images", files={"file": ("x.jpg", image_bytes())}, form=form)
    assert reply.status == 400, reply.body
    assert library.count() == 0
    assert list(library.tmp_dir.iterdir()) == []


def test_a_second_file_part_is_not_kept(api: Api, library: Library) -> None:
    reply = api.request(
        "POST",
        "/v3/images",
        files={"file": ("a.jpg", image_bytes()), "other": ("b.png", image_bytes("PNG"))},
    )
    assert reply.status == 201, reply.body
    assert library.count() == 1
    assert list(library.tmp_dir.iterdir()) == []


def test_a_body_cut_off_inside_the_file_part_leaves_nothing(api: Api, library: Library) -> None:
    boundary = "cut-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + image_bytes("JPEG", (400, 300))[:2000]  # no closing boundary
    reply = api.request(
        "POST",
        "/v3/images",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert reply.status == 400, reply.body
    assert library.count() == 0
    assert list(library.tmp_dir.iterdir()) == []
