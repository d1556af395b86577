"""Alt text written into JPEG, PNG and WebP files at the container level: read back by
Pillow's XMP reader and by exiftool, every other property kept, pixels identical."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from imageshelf.app.library import xmp_read
from imageshelf.app.library.errors import MetadataNotWritable
from imageshelf.app.library.write_back import embed_alt_text
from tests.library.xmp_samples import (
    CAMERA,
    CREATOR_TOOL,
    KINDS,
    SIMPLE,
    alt_text,
    caption,
    exiftool,
    icc_profile,
    lang_alt,
    make,
    pixels,
    xmp_packet,
)

ALT = "Ana, smiling, holds a café sign «Ouvert» & a <b> tag"
LONG = "A longer description:\nthe sign is chalk on slate; the café is on a corner."


def _pillow_alt(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as img:
        desc = img.getxmp()["xmpmeta"]["RDF"]["Description"]
    li = desc["AltTextAccessibility"]["Alt"]["li"]
    items = li if isinstance(li, list) else [li]
    return next(i["text"] for i in items if i["lang"] == "x-default")


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_keeps_everything_else(kind: str, tmp_path: Path) -> None:
    original = make(kind, xmp_packet(CREATOR_TOOL, caption("The caption")))
    written = embed_alt_text(original, ALT, LONG)

    assert pixels(written) == pixels(original)  # decoded, not re-encoded
    assert xmp_read.describe_packet(
        xmp_read.packet_from_bytes(written, xmp_read_type(kind))
    ) == xmp_read.FileDescription(ALT, LONG, None if kind in SIMPLE else "The caption")
    assert _pillow_alt(written) == ALT

    path = tmp_path / f"out.{kind.split('-')[0]}"
    path.write_bytes(written)
    seen = exiftool(
        str(path),
        "-XMP-iptcCore:AltTextAccessibility",
        "-XMP-iptcCore:ExtDescrAccessibility",
        "-XMP-xmp:CreatorTool",
        "-XMP-dc:Description",
        "-EXIF:Model",
        "-ICC_Profile:ProfileDescription",
        "-Warning",
        "-Error",
    )
    assert seen["AltTextAccessibility"] == ALT
    assert seen["ExtDescrAccessibility"] == LONG
    assert "Warning" not in seen and "Error" not in seen
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(written)) as after:
        assert after.info.get("icc_profile") == before.info.get("icc_profile")
        assert dict(after.getexif()) == dict(before.getexif())
    if kind not in SIMPLE:
        assert seen["CreatorTool"] == "Imageshelf tests"
        assert seen["Description"] == "The caption"
    if kind in ("jpeg", "png", "webp-extended"):
        assert seen["Model"] == CAMERA
        assert seen["ProfileDescription"]  # the ICC profile is still there


def xmp_read_type(kind: str) -> str:
    return {"jpeg": "image/jpeg", "png": "image/png"}.get(kind, "image/webp")


@pytest.mark.parametrize("kind", SIMPLE)
def test_simple_webp_becomes_extended_with_the_right_canvas(kind: str) -> None:
    original = make(kind)
    assert original[12:16] in (b"VP8 ", b"VP8L")
    written = embed_alt_text(original, ALT)
    assert written[12:16] == b"VP8X"
    assert written[20] & 0x04  # the XMP flag
    width = int.from_bytes(written[24:27], "little") + 1
    height = int.from_bytes(written[27:30], "little") + 1
    assert (width, height) == (64, 48)
    assert int.from_bytes(written[4:8], "little") == len(written) - 8
    assert pixels(written) == pixels(original)


def test_rewriting_replaces_and_keeps_other_languages() -> None:
    original = make(
        "jpeg",
        xmp_packet(
            lang_alt("Iptc4xmpCore:AltTextAccessibility", ("x-default", "old"), ("de", "alt"))
        ),
    )
    once = embed_alt_text(original, "new")
    twice = embed_alt_text(once, "newer")
    packet = xmp_read.packet_from_bytes(twice, "image/jpeg")
    assert packet is not None and packet.count(b"AltTextAccessibility>") == 2  # one property
    assert xmp_read.describe_packet(packet).alt_text == "newer"
    assert b'xml:lang="de">alt<' in packet
    # One standard XMP segment, not one per rewrite.
    assert twice.count(b"http://ns.adobe.com/xap/1.0/\x00") == 1
    cleared = embed_alt_text(twice, None)
    assert xmp_read.describe_packet(xmp_read.packet_from_bytes(cleared, "image/jpeg")) == (
        xmp_read.NOTHING
    )


def test_decorative_is_written_as_an_empty_value() -> None:
    written = embed_alt_text(make("png"), "")
    assert xmp_read.describe_packet(xmp_read.packet_from_bytes(written, "image/png")).alt_text == ""


def test_a_packet_too_large_for_a_jpeg_segment_is_refused() -> None:
    bulky = "<xmp:Label>" + "x" * 60_000 + "</xmp:Label>"
    original = make("jpeg", xmp_packet(bulky))
    with pytest.raises(MetadataNotWritable, match="65,502"):
        embed_alt_text(original, ALT, "y" * 9_000)
    # A PNG has no such limit.
    png = make("png", xmp_packet(bulky))
    assert (
        xmp_read.describe_packet(
            xmp_read.packet_from_bytes(embed_alt_text(png, ALT, "y" * 9_000), "image/png")
        ).long_description
        == "y" * 9_000
    )


def test_gif_cannot_carry_it() -> None:
    with pytest.raises(MetadataNotWritable, match="GIF"):
        embed_alt_text(make("gif"), ALT)


def test_reading_tolerates_the_extension_namespace_and_takes_x_default_else_first() -> None:
    ext = xmp_packet(alt_text("under Ext", ns="Iptc4xmpExt"))
    assert xmp_read.describe_packet(ext).alt_text == "under Ext"
    first = xmp_packet(
        lang_alt("Iptc4xmpCore:AltTextAccessibility", ("fr", "premier"), ("de", "zweite"))
    )
    assert xmp_read.describe_packet(first).alt_text == "premier"
    both = xmp_packet(
        lang_alt("Iptc4xmpCore:AltTextAccessibility", ("fr", "premier"), ("x-default", "défaut"))
    )
    assert xmp_read.describe_packet(both).alt_text == "défaut"
    too_long = xmp_packet(alt_text("z" * 2001))
    assert xmp_read.describe_packet(too_long).alt_text is None


def test_a_packet_with_entities_is_not_parsed() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'
    )
    assert xmp_read.describe_packet(bomb) == xmp_read.NOTHING
    # Writing over such a packet replaces it with a clean one.
    written = embed_alt_text(make("png", bomb), ALT)
    packet = xmp_read.packet_from_bytes(written, "image/png")
    assert packet is not None and b"ENTITY" not in packet
    assert xmp_read.describe_packet(packet).alt_text == ALT


def test_icc_helper_is_real() -> None:
    assert len(icc_profile()) > 100


@pytest.mark.parametrize("kind", [*KINDS, "gif"])
def test_reading_a_file_seeks_to_the_same_packet(kind: str, tmp_path: Path) -> None:
    """The entry path reads headers and the packet only; it finds what a read of the whole
    file finds, also where there is none, and a truncated file is no packet, not an error."""
    ctype = "image/gif" if kind == "gif" else xmp_read_type(kind)
    for data in (make(kind), embed_alt_text(make(kind), ALT) if kind != "gif" else make(kind)):
        path = tmp_path / "f"
        path.write_bytes(data)
        expected = xmp_read.packet_from_bytes(data, ctype)
        assert xmp_read.read_packet(path, ctype) == expected
        path.write_bytes(data[: len(data) // 3])
        assert xmp_read.describe_file(path, ctype).caption is None  # no exception


def test_a_png_packet_after_the_image_data_is_found(tmp_path: Path) -> None:
    data = embed_alt_text(make("png"), ALT)
    chunks = list(xmp_read.png_chunks(data))
    itxt = next((s, e) for c, s, e in chunks if c == b"iTXt")
    iend = next(s for c, s, _e in chunks if c == b"IEND")
    moved = data[: itxt[0]] + data[itxt[1] : iend] + data[itxt[0] : itxt[1]] + data[iend:]
    path = tmp_path / "late.png"
    path.write_bytes(moved)
    assert pixels(moved) == pixels(data)
    assert xmp_read.describe_file(path, "image/png").alt_text == ALT
