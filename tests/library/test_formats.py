"""Each accepted format is stored byte-for-byte, measured, typed from its bytes, and given a
thumbnail of the right kind."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from imageshelf.app.library import Library
from tests.conftest import image_bytes
from tests.library.helpers import on_disk, sha256


def thumb_image(library: Library, image_id: str) -> Image.Image:
    _, thumb = library.thumbnail(image_id)
    img = Image.open(io.BytesIO(thumb.path.read_bytes()))
    img.load()
    return img


@pytest.mark.parametrize(
    ("fmt", "ctype", "ext"),
    [
        ("JPEG", "image/jpeg", ".jpg"),
        ("PNG", "image/png", ".png"),
        ("GIF", "image/gif", ".gif"),
        ("WEBP", "image/webp", ".webp"),
    ],
)
def test_each_format_is_stored_as_sent(library: Library, add, fmt, ctype, ext) -> None:
    data = image_bytes(fmt, size=(70, 30))
    rec = add(data, "picture" + ext, alt_text="a red block")
    assert (rec.content_type, rec.width, rec.height, rec.size) == (ctype, 70, 30, len(data))
    assert rec.filename == "picture" + ext
    assert rec.sha256 == sha256(data)
    assert on_disk(library, rec).read_bytes() == data
    assert library.get(rec.id) == rec
    with library.open_original(rec.id)[1] as fp:
        assert fp.read() == data


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_is_accepted_and_thumbnail_is_its_first_frame(library, add, fmt) -> None:
    data = image_bytes(fmt, size=(40, 40), color=(250, 250, 0), frames=4, duration=80)
    with Image.open(io.BytesIO(data)) as check:
        assert check.n_frames == 4  # the test image really is animated
    rec = add(data, "anim." + fmt.lower())
    thumb = thumb_image(library, rec.id)
    r, g, b = thumb.convert("RGB").getpixel((20, 20))
    assert r > 200 and g > 200 and b < 60  # yellow, the first frame, not a later one


@pytest.mark.parametrize(
    ("fmt", "mode", "color"),
    [
        ("PNG", "RGBA", (10, 20, 30, 100)),
        ("PNG", "LA", (80, 100)),
        ("WEBP", "RGBA", (10, 20, 30, 0)),
    ],
)
def test_transparency_gives_a_png_thumbnail(library, add, fmt, mode, color) -> None:
    rec = add(image_bytes(fmt, size=(30, 20), color=color, mode=mode), "see-through")
    _, thumb = library.thumbnail(rec.id)
    assert thumb.content_type == "image/png"
    assert thumb_image(library, rec.id).format == "PNG"


def test_palette_with_transparent_index_gives_a_png_thumbnail(library, add) -> None:
    img = Image.new("P", (16, 16), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    out = io.BytesIO()
    img.save(out, "GIF", transparency=1)
    rec = add(out.getvalue(), "clear.gif")
    _, thumb = library.thumbnail(rec.id)
    assert thumb.content_type == "image/png"


@pytest.mark.parametrize(
    ("fmt", "mode", "color"),
    [
        ("JPEG", "RGB", (1, 2, 3)),
        ("JPEG", "L", 128),
        ("PNG", "RGB", (1, 2, 3)),
        ("PNG", "RGBA", (1, 2, 3, 255)),  # an alpha channel that hides nothing
        ("GIF", "RGB", (1, 2, 3)),
        ("WEBP", "RGB", (1, 2, 3)),
    ],
)
def test_opaque_images_get_a_jpeg_thumbnail(library, add, fmt, mode, color) -> None:
    rec = add(image_bytes(fmt, size=(30, 20), color=color, mode=mode), "solid")
    _, thumb = library.thumbnail(rec.id)
    assert thumb.content_type == "image/jpeg"
    assert thumb_image(library, rec.id).format == "JPEG"


def exif_rotated_jpeg() -> bytes:
    """80×40 stored, left half red and right half blue, EXIF orientation 6: shown as 40×80
    with red on top after turning 90° clockwise."""
    img = Image.new("RGB", (80, 40), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def test_exif_rotated_jpeg_has_displayed_dimensions_and_an_upright_thumbnail(library, add) -> None:
    data = exif_rotated_jpeg()
    rec = add(data, "phone.jpg")
    assert (rec.width, rec.height) == (40, 80)
    assert on_disk(library, rec).read_bytes() == data  # the original keeps its EXIF
    thumb = thumb_image(library, rec.id).convert("RGB")
    assert thumb.size == (40, 80)
    top, bottom = thumb.getpixel((20, 10)), thumb.getpixel((20, 70))
    assert top[0] > 200 and top[2] < 60  # red on top
    assert bottom[2] > 200 and bottom[0] < 60  # blue below


def test_format_comes_from_the_bytes_not_the_name(library, add) -> None:
    data = image_bytes("JPEG")
    rec = add(data, "photo.png")
    assert rec.content_type == "image/jpeg"
    assert rec.filename == "photo.jpg"
    assert rec.original_filename == "photo.png"
    assert on_disk(library, rec).read_bytes() == data


def test_png_named_gif_without_extension_or_name(library, add) -> None:
    png = image_bytes("PNG")
    assert add(png, "x.gif").filename == "x.png"
    unnamed = add(image_bytes("WEBP"), None)
    assert unnamed.filename == "image.webp"
    assert unnamed.original_filename == "image"


def test_jpeg_with_trailing_html_is_stored_byte_for_byte(library, add) -> None:
    data = image_bytes("JPEG") + b"<html><script>alert(1)</script></html>"
    rec = add(data, "poly.jpg")
    assert rec.content_type == "image/jpeg"
    assert rec.size == len(data)
    assert on_disk(library, rec).read_bytes() == data


def save(img: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kw)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "size"),
    [
        ("cmyk.jpg", save(Image.new("CMYK", (90, 70), (0, 0, 0, 0)), "JPEG"), (90, 70)),
        ("prog.jpg", save(Image.new("RGB", (90, 70), "white"), "JPEG", progressive=True), (90, 70)),
        ("bits.png", save(Image.new("1", (90, 70), 1), "PNG"), (90, 70)),
        ("wide.png", save(Image.new("RGB", (20000, 1), "white"), "PNG"), (20000, 1)),
        ("tall.png", save(Image.new("RGB", (1, 5000), "white"), "PNG"), (1, 5000)),
    ],
)
def test_uncommon_modes_and_shapes_are_accepted(library, add, name, data, size) -> None:
    rec = add(data, name)
    assert (rec.width, rec.height) == size
    thumb = thumb_image(library, rec.id).convert("L")
    assert max(thumb.size) <= 512 and min(thumb.size) >= 1
    assert thumb.getextrema()[0] > 200  # white stays white


def test_sixteen_bit_grey_keeps_its_tone_in_the_thumbnail(library, add) -> None:
    # Mid-grey in 16 bits (32768 of 65535); clipping to 8 bits would make it white.
    rec = add(save(Image.new("I;16", (900, 700), 32768), "PNG"), "scan.png")
    value = thumb_image(library, rec.id).convert("L").getpixel((10, 10))
    assert 110 <= value <= 145
