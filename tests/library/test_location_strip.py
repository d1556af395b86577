"""``location_strip`` on the cases the server tests do not reach: a compressed XMP in a PNG,
the second picture of a multi-picture JPEG, a WebP EXIF chunk with its ``Exif`` header,
files without GPS, and damaged metadata (never an exception, never GPS left)."""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib

from PIL import Image, TiffImagePlugin

from imageshelf.app.library import location_strip

GPS_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.5N">'
    b"<exif:GPSLongitude>2,17.7E</exif:GPSLongitude><exif:ExposureTime>1/250</exif:ExposureTime>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0110] = "Camera"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (TiffImagePlugin.IFDRational(48), TiffImagePlugin.IFDRational(51), 0.5)
    return exif


def jpeg(exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(out, "JPEG", exif=exif or Image.Exif())
    return out.getvalue()


def has_gps_ifd(exif_block: bytes) -> bool:
    exif = Image.Exif()
    exif.load(exif_block)
    return 0x8825 in exif


def gps_read_by_pillow(exif_block: bytes) -> dict[int, object]:
    """The GPS tags Pillow finds in an EXIF block ({} when it finds none or cannot read
    the block at all)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exif = Image.Exif()
            exif.load(exif_block)
            return dict(exif.get_ifd(0x8825))
        except Exception:
            return {}


def test_the_second_picture_of_a_multi_picture_jpeg_loses_its_gps_too() -> None:
    data = jpeg() + jpeg(gps_exif())  # an MPO's later pictures follow the first's EOI
    out = location_strip.strip_location(data, "image/jpeg")
    assert out is not None and len(out) == len(data)
    second = out[len(jpeg()) :]
    with Image.open(io.BytesIO(second)) as img:
        assert 0x8825 not in img.getexif()
        assert img.getexif()[0x0110] == "Camera"
    assert out[: len(jpeg())] == data[: len(jpeg())]


def test_a_compressed_png_xmp_is_blanked_and_compressed_again() -> None:
    keyword = b"XML:com.adobe.xmp\x00\x01\x00\x00\x00"
    body = keyword + zlib.compress(GPS_XMP)
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body))
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    data = png.getvalue()[:33] + chunk + png.getvalue()[33:]  # after IHDR
    out = location_strip.strip_location(data, "image/png")
    assert out is not None
    with Image.open(io.BytesIO(out)) as img:
        img.load()  # every CRC checks
        xmp = img.info["XML:com.adobe.xmp"]
    assert "GPS" not in xmp and "ExposureTime" in xmp


def test_a_webp_exif_chunk_with_its_exif_header() -> None:
    out = io.BytesIO()
    exif = b"Exif\x00\x00" + gps_exif().tobytes()
    Image.new("RGB", (8, 8)).save(out, "WEBP", exif=exif)
    data = out.getvalue()
    stripped = location_strip.strip_location(data, "image/webp")
    assert stripped is not None and len(stripped) == len(data)
    at = stripped.find(b"Exif\x00\x00") + 6
    assert not has_gps_ifd(stripped[at:])


def test_files_without_gps_are_left_alone() -> None:
    assert location_strip.strip_location(jpeg(), "image/jpeg") is None
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG", exif=Image.Exif())
    assert location_strip.strip_location(out.getvalue(), "image/png") is None
    assert location_strip.strip_location(b"GIF89a...", "image/gif") is None
    no_gps_xmp = GPS_XMP.replace(b"GPS", b"Zzz")
    assert location_strip.strip_xmp(no_gps_xmp) is None


def test_damaged_exif_never_raises_and_never_keeps_a_gps_pointer() -> None:
    """Random bytes written over the EXIF of a JPEG with GPS: what would be served has no
    GPS Pillow can read, and no exception escapes."""
    data = jpeg(gps_exif())
    start = data.find(b"Exif\x00\x00") + 6
    (length,) = struct.unpack(">H", data[start - 8 : start - 6])
    end = start - 8 + length
    rng = random.Random(16)
    for _ in range(400):
        broken = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(start, end)
            broken[at] = rng.randrange(256)
        out = location_strip.strip_location(bytes(broken), "image/jpeg")
        result = out if out is not None else bytes(broken)
        assert len(result) == len(data)
        assert gps_read_by_pillow(result[start:end]) == {}


def test_a_compressed_png_xmp_too_large_to_look_into_is_left_out() -> None:
    packet = GPS_XMP + b" " * (20 * 1024 * 1024)  # 20 MB of XMP in a few KB of zlib
    body = b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(packet, 9)
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body))
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    data = png.getvalue()[:33] + chunk + png.getvalue()[33:]
    out = location_strip.strip_location(data, "image/png")
    assert out == png.getvalue()  # every other chunk as it was


def test_a_gps_directory_without_a_usable_position_is_removed_too() -> None:
    """A latitude alone (no longitude) is no position a reader can show, but it is still
    where the picture was taken, roughly: it goes like any GPS."""
    exif = Image.Exif()
    exif[0x0110] = "Camera"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 30.0)
    data = jpeg(exif)
    out = location_strip.strip_location(data, "image/jpeg")
    assert out is not None
    at = out.find(b"Exif\x00\x00") + 6
    assert gps_read_by_pillow(out[at:]) == {}
