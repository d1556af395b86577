"""What the library process holds of the decode budget for a file a worker decodes
(``decode_workers.units_in_flight``): read from a plain JPEG's frame header without
Pillow, and exactly what Pillow's ``Image.open`` + ``draft`` said before, for every size,
header layout and odd file; a file whose header claims too many pixels holds nothing
(its worker refuses it at once)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from imageshelf.app.library import imaging, rules
from imageshelf.app.library.decode_workers import units_in_flight
from imageshelf.app.library.format_heads import jpeg_frame_size
from tests.exif_samples import camera_exif, pixels

SIZES = [
    (4000, 3000),
    (3000, 4000),
    (6000, 4000),
    (4096, 4096),
    (4095, 4097),
    (2048, 1024),
    (1024, 2048),
    (1023, 600),
    (513, 513),
    (512, 512),
    (511, 4000),
    (40, 30),
    (1, 1),
    (10000, 10000),  # exactly the limit
    (65535, 1525),  # just under it, far from square
]


def reference_units(path: Path) -> int:
    """What ``units_in_flight`` gave before it read headers itself: Pillow's reading."""
    try:
        with imaging.pillow_warnings(), Image.open(path, formats=rules.PILLOW_FORMATS) as img:
            full = img.width * img.height
            if img.format in ("JPEG", "MPO"):
                img.draft("RGB", rules.THUMBNAIL_BOX)
                return max(1, img.width * img.height)
            return max(1, 3 * full)
    except Exception:
        return 1


def jpeg(mode: str = "RGB", **save: object) -> bytes:
    out = io.BytesIO()
    img = pixels(seed=3, size=(16, 16))
    (img if mode == "RGB" else img.convert(mode)).save(out, "JPEG", **save)
    return out.getvalue()


def with_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` with its frame header claiming ``width``×``height``: Pillow's open and
    the header reader read no further than the scan's start, so neither can tell."""
    pos = 2
    while True:
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            size = height.to_bytes(2, "big") + width.to_bytes(2, "big")
            return data[: pos + 5] + size + data[pos + 9 :]
        pos += 2 + length


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def after_soi(data: bytes, *segments: bytes) -> bytes:
    return data[:2] + b"".join(segments) + data[2:]


LAYOUTS = {
    "plain": lambda: jpeg(),
    "camera exif": lambda: jpeg(exif=camera_exif(taken="2025:03:01 10:00:00", orientation=6)),
    "icc profile": lambda: jpeg(icc_profile=b"\0" * 70_000),  # split over two APP2s
    "progressive": lambda: jpeg(progressive=True),
    "grey": lambda: jpeg("L"),
    "cmyk": lambda: jpeg("CMYK"),
    "comment and xmp": lambda: after_soi(
        jpeg(), segment(0xFE, b"a comment"), segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x/>")
    ),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_jpegs_units_are_what_pillow_said(tmp_path: Path, layout: str, size: tuple[int, int]):
    path = tmp_path / "photo.jpg"
    path.write_bytes(with_size(LAYOUTS[layout](), *size))
    with open(path, "rb") as fp:
        assert jpeg_frame_size(fp) == size  # read by the header, not by Pillow
    assert units_in_flight(path) == reference_units(path) > 0


def test_a_real_camera_photo_holds_its_quarter_scale(tmp_path: Path):
    path = tmp_path / "photo.jpg"
    pixels(seed=1, size=(2100, 1100)).save(path, "JPEG", exif=camera_exif(orientation=1))
    # Scale 1/2 (2100 // 512 = 4, 1100 // 512 = 2): 1050 × 550 pixels decoded.
    assert units_in_flight(path) == 1050 * 550 == reference_units(path)


@pytest.mark.parametrize("size", [(10001, 10000), (65535, 65535), (20000, 20000)])
def test_a_header_claiming_too_many_pixels_holds_nothing(tmp_path: Path, size: tuple[int, int]):
    """A bomb's header: its worker refuses it before decoding, so the library process
    holds no share of the budget for it (one unit), as when Pillow refused to open it."""
    path = tmp_path / "bomb.jpg"
    path.write_bytes(with_size(jpeg(), *size))
    assert size[0] * size[1] > rules.MAX_PIXELS
    assert units_in_flight(path) == 1 == reference_units(path)


def odd_files() -> dict[str, bytes]:
    base = jpeg()
    big = with_size(base, 4000, 3000)
    sof = next(
        i
        for i in range(2, len(big))
        if big[i] == 0xFF and big[i + 1] in range(0xC0, 0xD0) and big[i + 1] not in (0xC4, 0xC8)
    )
    sof_segment = big[sof : sof + 2 + int.from_bytes(big[sof + 2 : sof + 4], "big")]
    mpo = io.BytesIO()
    first, second = pixels(seed=1, size=(1200, 900)), pixels(seed=2, size=(1200, 900))
    first.save(mpo, "MPO", save_all=True, append_images=[second])
    return {
        # A second frame header (small, then huge): not read simply, Pillow decides.
        "two frame headers": after_soi(with_size(base, 600, 400), sof_segment),
        "multi-picture": mpo.getvalue(),
        "thousands of empty segments": after_soi(big, *[segment(0xFE, b"")] * 5000),
        "truncated header": big[:40],
        "no frame before the scan": base[:2] + base[base.index(b"\xff\xda") :],
        "a zero height": with_size(base, 4000, 0),
        "a length shorter than its own field": after_soi(big, b"\xff\xfe\x00\x01"),
        "garbage after soi": b"\xff\xd8" + b"\x00" * 64,
        "png": _png(),
        "not an image": b"%PDF-1.7\n" + b"\0" * 100,
        "empty": b"",
    }


def _png() -> bytes:
    out = io.BytesIO()
    pixels(seed=4, size=(300, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("name", odd_files())
def test_an_odd_file_holds_what_pillow_said(tmp_path: Path, name: str):
    path = tmp_path / "odd.jpg"
    path.write_bytes(odd_files()[name])
    assert units_in_flight(path) == reference_units(path)


def test_headers_it_does_not_read_simply_are_left_to_pillow():
    files = odd_files()
    for name in ("two frame headers", "multi-picture", "thousands of empty segments"):
        assert jpeg_frame_size(io.BytesIO(files[name])) is None, name
    assert jpeg_frame_size(io.BytesIO(files["png"])) is None


def test_a_missing_file_holds_one_unit(tmp_path: Path):
    assert units_in_flight(tmp_path / "gone.jpg") == 1
