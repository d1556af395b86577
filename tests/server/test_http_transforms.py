"""Transforms on the proxy (contract Part 2): every rule through the Flask client and a
live waitress server — geometry, formats, orientation, metadata, transparency,
animations, headers, ETag/304/Range/HEAD, invalid combinations, 404/410."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image, ImageCms, ImageOps

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.server.http_helpers import TOKEN, Api, HttpApi

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"
UNKNOWN = "img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"


def _decoded(body: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(body))
    img.load()
    return img


def _public_ok(headers: Any) -> None:
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["X-Content-Type-Options"] == "nosniff"


# (source size, source format, query, expected output size)
GEOMETRY = [
    ((1200, 800), "PNG", {"w": "300"}, (300, 200)),
    ((1200, 800), "PNG", {"h": "100"}, (150, 100)),
    ((1200, 800), "PNG", {"w": "300", "h": "300"}, (300, 200)),
    ((1200, 800), "PNG", {"w": "300", "h": "300", "fit": "inside"}, (300, 200)),
    ((1200, 800), "PNG", {"w": "2000"}, (1200, 800)),  # inside never enlarges
    ((100, 50), "PNG", {"w": "200", "h": "200"}, (100, 50)),
    ((1200, 800), "PNG", {"w": "300", "h": "300", "fit": "cover"}, (300, 300)),
    ((1200, 800), "PNG", {"w": "300", "h": "300", "crop": "true"}, (300, 300)),
    ((1200, 800), "PNG", {"w": "100", "h": "400", "fit": "cover"}, (100, 400)),
    ((600, 200), "PNG", {"w": "300", "h": "300", "fit": "cover"}, (200, 200)),  # the contract's
    ((600, 200), "PNG", {"w": "900", "h": "100", "crop": "true"}, (600, 67)),
    ((3000, 10), "PNG", {"h": "1"}, (300, 1)),
    ((640, 480), "PNG", {"w": "1", "h": "1"}, (1, 1)),
    ((4000, 3000), "JPEG", {"w": "800"}, (800, 600)),  # reduced-scale decode
    ((4000, 3000), "JPEG", {"w": "500", "h": "100", "fit": "cover"}, (500, 100)),
    ((4000, 3000), "JPEG", {"w": "333", "h": "333", "crop": "true"}, (333, 333)),
    ((4000, 3000), "JPEG", {"w": "4096"}, (4000, 3000)),
]


@pytest.mark.parametrize(("source", "fmt", "query", "expected"), GEOMETRY)
def test_geometry(
    api: Api, source: tuple[int, int], fmt: str, query: dict[str, str], expected: tuple[int, int]
) -> None:
    made = api.upload_ok(image_bytes(fmt, source), "g." + fmt.lower())
    reply = api.get(f"/i/{made['id']}.png", query=query, auth=False)
    assert reply.status == 200, reply.body
    assert _decoded(reply.body).size == expected


def test_cover_takes_the_centred_region(api: Api) -> None:
    img = Image.new("RGB", (600, 200), (255, 0, 0))
    img.paste((0, 255, 0), (200, 0, 400, 200))
    img.paste((0, 0, 255), (400, 0, 600, 200))
    out = io.BytesIO()
    img.save(out, "PNG")
    made = api.upload_ok(out.getvalue(), "stripes.png")
    reply = api.get(f"/i/{made['id']}", query={"w": "300", "h": "300", "crop": "true"})
    result = _decoded(reply.body).convert("RGB")
    assert result.size == (200, 200)
    assert result.getcolors() == [(200 * 200, (0, 255, 0))]  # only the middle third
    scaled = _decoded(
        api.get(f"/i/{made['id']}", query={"w": "50", "h": "100", "crop": "true"}).body
    )
    assert scaled.size == (50, 100)
    assert scaled.convert("RGB").getpixel((25, 50)) == (0, 255, 0)


OUTPUTS = [
    ("jpg", "JPEG", "image/jpeg", {"RGB"}),
    ("jpeg", "JPEG", "image/jpeg", {"RGB"}),
    ("png", "PNG", "image/png", {"RGB", "RGBA"}),
    ("webp", "WEBP", "image/webp", {"RGB", "RGBA"}),
    ("gif", "GIF", "image/gif", {"P"}),
    ("avif", "AVIF", "image/avif", {"RGB", "RGBA"}),
]


@pytest.mark.parametrize(("ext", "pillow", "ctype", "modes"), OUTPUTS)
def test_each_output_format(api: Api, ext: str, pillow: str, ctype: str, modes: set[str]) -> None:
    opaque = api.upload_ok(image_bytes("JPEG", (900, 600)), "o.jpg")
    clear = api.upload_ok(image_bytes("PNG", (90, 60), (0, 0, 0, 0), mode="RGBA"), "t.png")
    for made, query, size in (
        (opaque, {"w": "300"}, (300, 200)),
        (opaque, {}, (900, 600)),  # a conversion at the original size
        (clear, {"h": "30"}, (45, 30)),
    ):
        reply = api.get(f"/i/{made['id']}.{ext}", query=query, auth=False)
        assert reply.status == 200, reply.body
        assert reply.headers["Content-Type"] == ctype
        assert reply.headers["Content-Length"] == str(len(reply.body))
        img = _decoded(reply.body)
        assert (img.format, img.size) == (pillow, size)
        assert img.mode in modes
    if pillow in ("PNG", "WEBP", "AVIF"):  # transparency kept where the format has it
        img = _decoded(api.get(f"/i/{clear['id']}.{ext}").body)
        assert img.mode == "RGBA" and img.getpixel((5, 5))[3] == 0


def _made(api: Api, path: str, query: dict[str, str] | None = None) -> Any:
    """The transform, as a client honouring the contract gets it: a result not ready
    in time is a 503 ``busy`` whose work goes on into the cache, asked again after its
    Retry-After (an AVIF at q=100 on a loaded machine)."""
    for _ in range(30):
        reply = api.get(path, query=query)
        if reply.status != 503:
            return reply
        assert reply.error_code == "busy", reply.body
        time.sleep(int(reply.headers["Retry-After"]))
    raise AssertionError(f"{path} {query}: still busy after 30 tries")


def test_quality_defaults_and_q(api: Api) -> None:
    noisy = Image.effect_noise((400, 300), 60).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    made = api.upload_ok(out.getvalue(), "noise.png")
    for ext in ("jpg", "webp", "avif"):
        default = _made(api, f"/i/{made['id']}.{ext}")
        low = _made(api, f"/i/{made['id']}.{ext}", query={"q": "5"})
        high = _made(api, f"/i/{made['id']}.{ext}", query={"q": "100"})
        assert len(low.body) < len(default.body) < len(high.body), ext
        assert len({default.headers["ETag"], low.headers["ETag"], high.headers["ETag"]}) == 3


def test_own_extension_is_exactly_the_original(api: Api) -> None:
    cases = [("JPEG", "p.jpg", ("jpg", "jpeg", "JPG")), ("PNG", "p.png", ("png",)),
             ("WEBP", "p.webp", ("webp",)), ("GIF", "p.gif", ("gif",))]  # fmt: skip
    for fmt, name, exts in cases:
        content = image_bytes(fmt, (80, 60))
        made = api.upload_ok(content, name)
        original = api.get(f"/i/{made['id']}", auth=False)
        for ext in exts:
            same = api.get(f"/i/{made['id']}.{ext}", auth=False)
            assert (same.status, same.body) == (200, content)
            assert same.headers["ETag"] == original.headers["ETag"]
            assert same.headers["Content-Type"] == original.headers["Content-Type"]
            # fit=inside and crop=false alone change nothing: still the original
            plain = api.get(f"/i/{made['id']}.{ext}", query={"fit": "inside", "crop": "false"})
            assert plain.headers["ETag"] == original.headers["ETag"]


def test_a_size_always_gives_a_transform_result(api: Api) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    content = image_bytes("JPEG", (80, 60), exif=exif.tobytes())
    made = api.upload_ok(content, "small.jpg")
    for query in ({"w": "80"}, {"w": "4000"}, {"q": "85"}):
        reply = api.get(f"/i/{made['id']}", query=query)
        assert reply.status == 200
        assert reply.body != content
        assert reply.headers["ETag"] != api.get(f"/i/{made['id']}").headers["ETag"]
        img = _decoded(reply.body)
        assert (img.format, img.size) == ("JPEG", (80, 60))
        assert "exif" not in img.info


def test_orientation_is_applied(api: Api) -> None:
    raw = Image.new("RGB", (400, 200), (255, 0, 0))
    raw.paste((0, 0, 255), (0, 100, 400, 200))  # top red, bottom blue
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated a quarter turn clockwise
    out = io.BytesIO()
    raw.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    made = api.upload_ok(out.getvalue(), "turned.jpg")
    assert (made["width"], made["height"]) == (200, 400)
    shown = ImageOps.exif_transpose(Image.open(io.BytesIO(out.getvalue())))
    reply = api.get(f"/i/{made['id']}.png", query={"w": "100"})
    img = _decoded(reply.body).convert("RGB")
    assert img.size == (100, 200)
    for x, y in ((10, 100), (90, 100)):
        want = shown.getpixel((x * 2, y * 2))
        got = img.getpixel((x, y))
        assert all(abs(a - b) < 40 for a, b in zip(got, want, strict=True)), (x, y, got, want)
    covered = _decoded(
        api.get(f"/i/{made['id']}.png", query={"w": "50", "h": "50", "crop": "true"}).body
    )
    assert covered.size == (50, 50)


def test_icc_kept_and_no_other_metadata(api: Api) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Maker"
    exif.get_ifd(0x8825)[1] = "N"
    exif.get_ifd(0x8825)[2] = (41.0, 24.0, 12.0)
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
           b'02/22-rdf-syntax-ns#"><rdf:Description/></rdf:RDF></x:xmpmeta>')  # fmt: skip
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (9, 99, 199)).save(
        out, "JPEG", icc_profile=icc, exif=exif.tobytes(), xmp=xmp
    )
    made = api.upload_ok(out.getvalue(), "tagged.jpg")
    for ext in ("jpg", "png", "webp", "avif", "gif"):
        reply = api.get(f"/i/{made['id']}.{ext}", query={"w": "120"})
        img = _decoded(reply.body)
        assert img.info.get("icc_profile") == (None if ext == "gif" else icc), ext
        assert "exif" not in img.info and "xmp" not in img.info, (ext, list(img.info))
        assert not img.getexif(), ext
        assert b"41.0" not in reply.body and b"Maker" not in reply.body


def test_transparency_as_jpeg_is_flattened_onto_white(api: Api) -> None:
    img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    img.paste((200, 0, 0, 255), (50, 0, 100, 100))
    out = io.BytesIO()
    img.save(out, "PNG")
    made = api.upload_ok(out.getvalue(), "half.png")
    for query in ({}, {"w": "50"}):
        result = _decoded(api.get(f"/i/{made['id']}.jpg", query=query).body)
        assert result.mode == "RGB"
        w = result.width
        assert all(c > 245 for c in result.getpixel((w // 8, w // 2)))  # white, not black
        red = result.getpixel((w - w // 8, w // 2))
        assert red[0] > 180 and red[1] < 40


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_an_animation_gives_its_first_frame(api: Api, fmt: str) -> None:
    frames = [Image.new("RGB", (60, 40), c) for c in ((250, 0, 0), (0, 250, 0), (0, 0, 250))]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    made = api.upload_ok(out.getvalue(), "anim." + fmt.lower())
    for ext in ("png", "gif", "webp"):
        img = Image.open(io.BytesIO(api.get(f"/i/{made['id']}.{ext}", query={"w": "30"}).body))
        assert getattr(img, "n_frames", 1) == 1
        r, g, b = img.convert("RGB").getpixel((15, 10))
        assert r > 200 and g < 50 and b < 50, (ext, (r, g, b))


def test_headers_304_range_and_head(api: Api) -> None:
    made = api.upload_ok(image_bytes("JPEG", (1000, 700)), "h.jpg")
    url = f"/i/{made['id']}.webp"
    query = {"w": "400"}
    full = api.get(url, query=query, auth=False)
    assert full.status == 200
    assert full.headers["Content-Type"] == "image/webp"
    assert full.headers["Content-Length"] == str(len(full.body))
    # The Cache-Control of originals: revalidated on the bare link (the bytes behind an id
    # can change), immutable under the original's version ``v``.
    original = api.get(f"/i/{made['id']}", auth=False)
    assert full.headers["Cache-Control"] == original.headers["Cache-Control"] == REVALIDATE
    version = original.headers["ETag"].strip('"')[:16]
    pinned = api.get(url, query={**query, "v": version}, auth=False)
    assert (pinned.body, pinned.headers["ETag"]) == (full.body, full.headers["ETag"])
    assert pinned.headers["Cache-Control"] == IMMUTABLE
    stale = api.get(url, query={**query, "v": "0" * 16}, auth=False)
    assert stale.headers["Cache-Control"] == REVALIDATE and stale.body == full.body
    assert full.headers["Accept-Ranges"] == "bytes"
    etag = full.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    _public_ok(full.headers)

    again = api.get(url, query=query, headers={"If-None-Match": etag})
    assert (again.status, again.body, again.headers["ETag"]) == (304, b"", etag)
    assert again.headers["Cache-Control"] == REVALIDATE
    assert api.get(url, query=query, headers={"If-None-Match": '"x"'}).status == 200

    part = api.get(url, query=query, headers={"Range": "bytes=4-19"})
    assert (part.status, part.body) == (206, full.body[4:20])
    assert part.headers["Content-Range"] == f"bytes 4-19/{len(full.body)}"
    assert part.headers["ETag"] == etag
    _public_ok(part.headers)
    beyond = api.get(url, query=query, headers={"Range": f"bytes={len(full.body) + 5}-"})
    assert (beyond.status, beyond.error_code) == (416, "range_not_satisfiable")

    for if_match, status in (('"x"', 412), ("*", 200), (etag, 200), (f'"x", {etag}', 200)):
        reply = api.get(url, query=query, headers={"If-Match": if_match})
        assert reply.status == status, (if_match, reply.body[:100])
    refused = api.get(url, query=query, headers={"If-Match": '"x"'})
    assert refused.error_code == "precondition_failed"

    head = api.request("HEAD", url, query=query, auth=False)
    assert (head.status, head.body) == (200, b"")
    for name in ("Content-Type", "Content-Length", "ETag", "Cache-Control", "Accept-Ranges"):
        assert head.headers[name] == full.headers[name]
    _public_ok(head.headers)
    # jpg and jpeg, crop=true and fit=cover: the same result, the same ETag
    a = api.get(f"/i/{made['id']}.jpg", query={"w": "90", "h": "90", "crop": "true"})
    b = api.get(f"/i/{made['id']}.jpeg", query={"w": "90", "h": "90", "fit": "cover"})
    assert a.headers["ETag"] == b.headers["ETag"] and a.body == b.body


INVALID = [
    ("", {"w": "0"}),
    ("", {"w": "4097"}),
    ("", {"w": "-5"}),
    ("", {"w": "12.5"}),
    ("", {"w": ""}),
    ("", {"w": "abc"}),
    ("", {"w": "٣"}),  # a digit, but not an ASCII one
    ("", {"h": "1e3"}),
    ("", {"w": "10", "foo": "1"}),
    ("", {"foo": "1"}),
    ("", {"W": "10"}),
    ("", {"crop": "yes"}),
    ("", {"crop": "TRUE"}),
    ("", {"fit": "contain"}),
    ("", {"fit": "cover", "w": "10"}),
    ("", {"fit": "cover", "h": "10"}),
    ("", {"crop": "true", "w": "10"}),
    ("", {"crop": "true"}),
    ("", {"crop": "true", "fit": "inside", "w": "10", "h": "10"}),
    ("", {"q": "0"}),
    ("", {"q": "101"}),
    (".webp", {"q": "x"}),
    (".png", {"q": "50"}),
    (".gif", {"q": "50", "w": "10"}),
    (".png", {"w": "10", "q": "80"}),
    ("", {"variant": "thumbnail", "w": "10"}),
    (".webp", {"variant": "thumbnail"}),
    (".jpg", {"variant": "thumbnail"}),
    (".tiff", {}),
    (".bmp", {"w": "10"}),
    (".svg", {}),
    (".", {}),
    (".we bp", {}),
    (".webp.png", {}),
]


@pytest.mark.parametrize(("suffix", "query"), INVALID)
def test_invalid_combinations_are_400(api: Api, suffix: str, query: dict[str, str]) -> None:
    made = api.upload_ok(image_bytes("PNG", (40, 30)), "x.png")
    reply = api.get(f"/i/{made['id']}{suffix}", query=query, auth=False)
    assert (reply.status, reply.error_code) == (400, "invalid_transform"), reply.body
    _public_ok(reply.headers)


def test_repeated_parameter_is_400(api: Api) -> None:
    made = api.upload_ok(image_bytes("PNG", (40, 30)), "x.png")
    reply = api.get(f"/i/{made['id']}.webp?w=10&w=20", auth=False)
    assert (reply.status, reply.error_code) == (400, "invalid_transform")


def test_q_for_a_png_original_without_extension_is_400(api: Api) -> None:
    made = api.upload_ok(image_bytes("PNG", (40, 30)), "x.png")
    reply = api.get(f"/i/{made['id']}", query={"q": "50"})
    assert (reply.status, reply.error_code) == (400, "invalid_transform")
    jpeg = api.upload_ok(image_bytes("JPEG", (40, 30)), "x.jpg")
    assert api.get(f"/i/{jpeg['id']}", query={"q": "50"}).headers["Content-Type"] == "image/jpeg"


def test_unknown_and_deleted_ids(api: Api) -> None:
    for path in (f"/i/{UNKNOWN}.webp", f"/i/{UNKNOWN}?w=10", "/i/whatever.png?w=3"):
        reply = api.get(path, auth=False)
        assert (reply.status, reply.error_code) == (404, "not_found"), path
        _public_ok(reply.headers)
    made = api.upload_ok(image_bytes("JPEG", (50, 50)))
    assert api.get(f"/i/{made['id']}.webp", query={"w": "10"}).status == 200
    assert api.request("DELETE", f"/v3/images/{made['id']}").status == 204
    for suffix, query in ((".webp", {"w": "10"}), (".png", {}), ("", {"w": "5"}), (".jpg", {})):
        gone = api.get(f"/i/{made['id']}{suffix}", query=query, auth=False)
        assert (gone.status, gone.error_code) == (410, "gone")
        _public_ok(gone.headers)
    assert api.request("HEAD", f"/i/{made['id']}.webp").status == 410


def test_other_methods_are_refused(api: Api) -> None:
    made = api.upload_ok(image_bytes())
    reply = api.request("POST", f"/i/{made['id']}.webp", auth=False)
    assert (reply.status, reply.error_code) == (405, "method_not_allowed")


ASKED = [
    ("webp", {"w": "300"}),
    ("jpg", {"w": "50", "h": "60", "crop": "true"}),
    ("avif", {"h": "100", "q": "40"}),
    ("png", {}),
]


def test_etag_and_bytes_are_stable_across_a_restart(
    open_library: Callable[[], Library],
) -> None:
    def fetch(lib: Library, image_id: str | None) -> tuple[str, dict[str, tuple[str, bytes]]]:
        server = BackgroundServer(lib, host="127.0.0.1", port=0, token=TOKEN).start()
        try:
            http = HttpApi(server.base_url)
            if image_id is None:
                image_id = http.upload_ok(image_bytes("JPEG", (1500, 1000)), "s.jpg")["id"]
            got = {}
            for ext, query in ASKED:
                reply = http.get(f"/i/{image_id}.{ext}", query=query)
                assert reply.status == 200
                got[ext] = (reply.headers["ETag"], reply.body)
            return image_id, got
        finally:
            server.stop()

    with open_library() as lib:
        image_id, first = fetch(lib, None)
    with open_library() as lib:  # a new process would see the same
        _, cached = fetch(lib, image_id)
        lib.transforms.cache.clear()  # rebuilt from scratch: still the same bytes
        _, rebuilt = fetch(lib, image_id)
        assert lib.transforms.computations == len(first)
    assert first == cached == rebuilt
