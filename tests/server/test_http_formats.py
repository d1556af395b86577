"""Contract Part 2, "More formats", through the real server: AVIF, HEIC/HEIF, TIFF, BMP and
ICO are accepted with their content types, read from the bytes, served as sent,
thumbnailed and converted for browsers; damaged, fake and bomb files of each are 400 and
leave nothing behind; PSD, PPM, TGA, SVG and PDF are still refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from imageshelf.app.library import Library, rules
from imageshelf.app.library import codecs as _codecs
from tests import hostile_inputs
from tests.conftest import image_bytes
from tests.server.http_helpers import Api
from tests.server.library_files import stored_bytes

assert _codecs  # HEIF registered for the images the tests make

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

# (Pillow's name, content type, extension of the stored file)
NEW_FORMATS = [
    ("AVIF", "image/avif", ".avif"),
    ("HEIF", "image/heic", ".heic"),
    ("TIFF", "image/tiff", ".tiff"),
    ("BMP", "image/bmp", ".bmp"),
    ("ICO", "image/vnd.microsoft.icon", ".ico"),
]
IDS = [fmt for fmt, _, _ in NEW_FORMATS]


def picture(fmt: str, size: tuple[int, int] = (120, 80), **save: object) -> bytes:
    """Left half red, right half blue: a conversion that loses the picture shows."""
    img = Image.new("RGB", size, (220, 20, 20))
    img.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    if fmt == "ICO":
        save.setdefault("sizes", [size])  # Pillow's default set stops at 64×64 here
    img.save(out, fmt, **save)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


@pytest.mark.parametrize(("fmt", "content_type", "ext"), NEW_FORMATS, ids=IDS)
def test_each_format_is_accepted_served_thumbnailed_and_converted(
    api: Api, library: Library, fmt: str, content_type: str, ext: str
) -> None:
    data = picture(fmt)
    # The name says JPEG: the format is read from the bytes.
    body = api.upload_ok(data, "holiday.jpg")
    assert body["content_type"] == content_type
    assert body["filename"] == f"holiday{ext}"
    assert (body["width"], body["height"]) == (120, 80)
    assert body["size"] == len(data)
    image_id = body["id"]
    assert stored_bytes(library, image_id) == data

    original = api.get(f"/i/{image_id}")
    assert original.status == 200
    assert original.headers["Content-Type"] == content_type
    assert original.body == data
    own = api.get(f"/i/{image_id}{ext}")  # the original's own extension: the original
    assert own.status == 200 and own.body == data
    assert own.headers["ETag"] == original.headers["ETag"]

    thumb = api.get(f"/i/{image_id}", query={"variant": "thumbnail"})
    assert thumb.status == 200
    assert thumb.headers["Content-Type"] == "image/jpeg"
    shown = decoded(thumb.body).convert("RGB")
    assert shown.size == (120, 80)
    left, right = shown.getpixel((10, 40)), shown.getpixel((110, 40))
    assert left[0] > 150 and left[2] < 100, left  # red stays red
    assert right[2] > 150 and right[0] < 100, right

    for out_ext, out_type in (
        ("jpg", "image/jpeg"),
        ("png", "image/png"),
        ("webp", "image/webp"),
        ("avif", "image/avif"),
    ):
        converted = api.get(f"/i/{image_id}.{out_ext}", query={"w": "60"})
        assert converted.status == 200, converted.body
        assert converted.headers["Content-Type"] == out_type
        assert decoded(converted.body).size == (60, 40)

    # No extension: the original's format where browsers take it, else PNG.
    same = api.get(f"/i/{image_id}", query={"w": "30"})
    assert same.status == 200
    expected = "image/avif" if fmt == "AVIF" else "image/png"
    assert same.headers["Content-Type"] == expected
    assert decoded(same.body).size == (30, 20)


def test_the_exif_orientation_of_an_avif_is_applied_and_heic_comes_upright(api: Api) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    for fmt in ("AVIF", "HEIF", "TIFF"):
        body = api.upload_ok(picture(fmt, exif=exif.tobytes()), f"turned.{fmt.lower()}")
        assert (body["width"], body["height"]) == (80, 120), fmt
        thumb = decoded(api.get(f"/i/{body['id']}", query={"variant": "thumbnail"}).body)
        assert thumb.size == (80, 120), fmt
        top = thumb.convert("RGB").getpixel((40, 10))
        assert top[0] > 150 and top[2] < 100, (fmt, top)  # the red half is on top
        resized = decoded(api.get(f"/i/{body['id']}.png", query={"w": "40"}).body)
        assert resized.size == (40, 60), fmt


def test_a_multi_page_tiff_is_its_first_page_and_an_icon_its_largest_image(api: Api) -> None:
    pages = io.BytesIO()
    first = Image.new("RGB", (90, 30), (0, 200, 0))
    first.save(pages, "TIFF", save_all=True, append_images=[Image.new("RGB", (400, 400))])
    tiff = api.upload_ok(pages.getvalue(), "scan.tif")
    assert (tiff["width"], tiff["height"]) == (90, 30)
    thumb = decoded(api.get(f"/i/{tiff['id']}", query={"variant": "thumbnail"}).body)
    assert thumb.size == (90, 30)
    assert thumb.convert("RGB").getpixel((45, 15))[1] > 150

    icon = io.BytesIO()
    Image.new("RGBA", (128, 128), (200, 0, 0, 128)).save(
        icon, "ICO", sizes=[(16, 16), (128, 128), (32, 32)]
    )
    ico = api.upload_ok(icon.getvalue(), "app.ico")
    assert (ico["width"], ico["height"]) == (128, 128)
    thumb_reply = api.get(f"/i/{ico['id']}", query={"variant": "thumbnail"})
    assert thumb_reply.headers["Content-Type"] == "image/png"  # transparency kept
    assert decoded(thumb_reply.body).size == (128, 128)


def _hostile_cases() -> list[tuple[str, bytes, tuple[str, ...]]]:
    bad = ("malformed_image", "too_many_pixels")
    cases: list[tuple[str, bytes, tuple[str, ...]]] = []
    for fmt, _, _ in NEW_FORMATS:
        data = picture(fmt, (200, 150))
        cases.append((f"{fmt}-truncated", data[: len(data) // 2], bad))
        cases.append((f"{fmt}-right-magic-garbage", data[:16] + b"\x5a" * 400, bad))
        cases.append((f"{fmt}-wrong-magic", b"\x00" * 4 + data[4:], (*bad, "unsupported_format")))
    cases += [
        ("BMP-bomb", hostile_inputs.bmp_bomb(), ("too_many_pixels",)),
        ("TIFF-bomb", hostile_inputs.tiff_bomb(), ("too_many_pixels",)),
        ("ICO-bomb", hostile_inputs.ico_bomb(), ("too_many_pixels",)),
        ("HEIF-bomb", hostile_inputs.isobmff_bomb("HEIF"), bad),
        ("AVIF-bomb", hostile_inputs.isobmff_bomb("AVIF"), bad),
    ]
    return cases


HOSTILE = _hostile_cases()


@pytest.mark.parametrize(("name", "data", "codes"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_damaged_fake_and_bomb_files_of_each_format_are_400_and_leave_nothing(
    api: Api, library: Library, name: str, data: bytes, codes: tuple[str, ...]
) -> None:
    reply = api.upload(data, f"{name}.heic", folder="new-folder")
    assert reply.status == 400, (reply.status, reply.body)
    assert reply.error_code in codes, reply.body
    assert library.count() == 0
    assert "new-folder" not in library.folders()
    assert not (library.root / "new-folder").exists()  # in a folder library: no empty folder
    assert library.core.storage.list_files() == {}  # no file, no object
    assert list(library.tmp_dir.iterdir()) == []  # nothing staged is left


STILL_REFUSED = [
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
    ("pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
    (
        "psd",
        b"8BPS\x00\x01" + b"\x00" * 6 + b"\x00\x03" + b"\x00\x00\x00\x10" * 2 + b"\x00\x08\x00\x03",
    ),
    ("ppm", image_bytes("PPM")),
    ("tga", image_bytes("TGA")),
    ("jpeg2000", image_bytes("JPEG2000")),
]


@pytest.mark.parametrize(("name", "data"), STILL_REFUSED, ids=[n for n, _ in STILL_REFUSED])
def test_other_formats_are_still_refused_as_unsupported(
    api: Api, library: Library, name: str, data: bytes
) -> None:
    reply = api.upload(data, f"picture.{name}")
    assert reply.status == 400
    assert reply.error_code == "unsupported_format"
    assert library.count() == 0


def test_heic_and_heif_are_told_apart_by_the_files_brands() -> None:
    def ftyp(major: bytes, *compatible: bytes) -> bytes:
        body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
        return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body

    assert rules.heif_format(ftyp(b"heic", b"mif1", b"heic")) is rules.HEIC
    assert rules.heif_format(ftyp(b"mif1", b"mif1", b"heic")) is rules.HEIC
    assert rules.heif_format(ftyp(b"mif1", b"mif1", b"miaf")) is rules.HEIF
    assert rules.heif_format(ftyp(b"msf1", b"msf1")) is rules.HEIF
    assert rules.HEIF.content_type == "image/heif"
