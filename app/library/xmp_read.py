"""Reading the XMP packet of a JPEG, PNG or WebP file, and the IPTC accessibility fields
in it (IPTC Photo Metadata 2021.1: ``Iptc4xmpCore:AltTextAccessibility`` and
``Iptc4xmpCore:ExtDescrAccessibility``, both XMP Lang Alt).

The packet is found at the container level (JPEG APP1 segments, PNG iTXt chunks, WebP
RIFF chunks) without decoding anything, and bounded before it is parsed. A packet that
declares a DTD is refused outright (defusedxml): XMP never needs one, and entity expansion
is the one way an XML document of a few kilobytes can cost gigabytes."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring as safe_fromstring  # type: ignore[import-untyped]

from . import rules
from .errors import InvalidAltText, InvalidLongDescription

JPEG_XMP_HEADER: Final = b"http://ns.adobe.com/xap/1.0/\x00"
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
PNG_XMP_KEYWORD: Final = b"XML:com.adobe.xmp"

NS_RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_XML: Final = "http://www.w3.org/XML/1998/namespace"
NS_X: Final = "adobe:ns:meta/"
NS_IPTC_CORE: Final = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
# Some tools write the accessibility fields under the Extension namespace; read them there
# too, write them where the standard puts them.
NS_IPTC_EXT: Final = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_DC: Final = "http://purl.org/dc/elements/1.1/"
NS_PHOTOSHOP: Final = "http://ns.adobe.com/photoshop/1.0/"

ALT_TEXT: Final = "AltTextAccessibility"
EXT_DESCR: Final = "ExtDescrAccessibility"
ACCESSIBILITY_NAMESPACES: Final = (NS_IPTC_CORE, NS_IPTC_EXT)


@dataclass(frozen=True, slots=True)
class FileDescription:
    """What a file says about itself. ``alt_text`` and ``long_description`` are the IPTC
    accessibility fields (``None`` where absent); ``caption`` is a description written
    for another purpose (dc:description, a headline), offered as a suggestion only."""

    alt_text: str | None = None
    long_description: str | None = None
    caption: str | None = None


NOTHING: Final = FileDescription()


class BadContainer(ValueError):
    """The file's structure (segments, chunks) is not what its format says."""


# --- finding the packet ------------------------------------------------------------------


def jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, start of the marker, end of the segment) for each segment before the
    image data (SOS), after SOI."""
    if data[:2] != b"\xff\xd8":
        raise BadContainer("not a JPEG (no SOI marker)")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise BadContainer(f"no JPEG marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise BadContainer(f"JPEG segment at byte {pos} runs past the end")
        yield marker, pos, end
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return
        pos = end
    raise BadContainer("JPEG ends before its image data")


def png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start of the chunk, end of the chunk incl. CRC) for every chunk."""
    if not data.startswith(PNG_SIGNATURE):
        raise BadContainer("not a PNG (no signature)")
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise BadContainer(f"PNG chunk {ctype!r} at byte {pos} runs past the end")
        yield ctype, pos, end
        if ctype == b"IEND":
            return
        pos = end
    raise BadContainer("PNG ends without IEND")


def webp_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(fourcc, start of the chunk, end of the chunk incl. padding) for every chunk."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise BadContainer("not a WebP (no RIFF/WEBP header)")
    (riff_size,) = struct.unpack("<I", data[4:8])
    limit = min(len(data), 8 + riff_size)
    pos = 12
    while pos + 8 <= limit:
        fourcc, size = struct.unpack("<4sI", data[pos : pos + 8])
        end = pos + 8 + size + (size & 1)
        if pos + 8 + size > limit:
            raise BadContainer(f"WebP chunk {fourcc!r} at byte {pos} runs past the end")
        yield fourcc, pos, min(end, limit)
        pos = end


def png_file_chunks(fp: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(type, length) of each chunk of the PNG whose signature ``fp`` has just passed, up
    to IEND, with ``fp`` at the chunk's data: what the caller reads of it is skipped for it
    (with the CRC) before the next. A file read this way is never loaded whole."""
    while True:
        head = fp.read(8)
        if len(head) < 8:
            return
        length, ctype = struct.unpack(">I4s", head)
        if ctype == b"IEND":
            return
        start = fp.tell()
        yield ctype, length
        fp.seek(start + length + 4)


def riff_file_chunks(fp: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(fourcc, size) of each chunk of the WebP whose 12-byte RIFF header ``fp`` has just
    passed, with ``fp`` at the chunk's data, as ``png_file_chunks``."""
    while True:
        head = fp.read(8)
        if len(head) < 8:
            return
        fourcc, size = struct.unpack("<4sI", head)
        start = fp.tell()
        yield fourcc, size
        fp.seek(start + size + (size & 1))


def _png_itxt_text(body: bytes) -> bytes | None:
    keyword, sep, rest = body.partition(b"\x00")
    if not sep or keyword != PNG_XMP_KEYWORD or len(rest) < 2:
        return None
    compressed, _method, rest = rest[0], rest[1], rest[2:]
    _lang, _, rest = rest.partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    if compressed:
        import zlib

        try:
            inflater = zlib.decompressobj()
            text = inflater.decompress(text, rules.MAX_XMP_PACKET_BYTES + 1)
        except zlib.error:
            return None
    return text


def packet_from_bytes(data: bytes, content_type: str) -> bytes | None:
    """The XMP packet of a file's bytes, ``None`` when it has none (or the format cannot
    carry one). Raises ``BadContainer`` for a file whose structure is broken."""
    if content_type == "image/jpeg":
        for marker, start, end in jpeg_segments(data):
            body = data[start + 4 : end]
            if marker == 0xE1 and body.startswith(JPEG_XMP_HEADER):
                return body[len(JPEG_XMP_HEADER) :]
        return None
    if content_type == "image/png":
        for ctype, start, end in png_chunks(data):
            if ctype == b"iTXt":
                text = _png_itxt_text(data[start + 8 : end - 4])
                if text is not None:
                    return text
        return None
    if content_type == "image/webp":
        for fourcc, start, _end in webp_chunks(data):
            if fourcc == b"XMP ":
                (size,) = struct.unpack("<I", data[start + 4 : start + 8])
                return data[start + 8 : start + 8 + size]
        return None
    return None


def read_packet(source: Path | BinaryIO, content_type: str) -> bytes | None:
    """The XMP packet of a file, reading only segment and chunk headers and the packet
    itself (seeking past the image data): an upload is not read a second time."""
    if content_type not in rules.XMP_WRITABLE_TYPES:
        return None
    if isinstance(source, Path):
        with open(source, "rb") as fp:
            return _packet_from_file(fp, content_type)
    source.seek(0)
    return _packet_from_file(source, content_type)


def _exact(fp: BinaryIO, n: int) -> bytes:
    data = fp.read(n)
    if len(data) != n:
        raise BadContainer("the file ends inside a segment or chunk header")
    return data


def _packet_from_file(fp: BinaryIO, content_type: str) -> bytes | None:
    limit = rules.MAX_XMP_PACKET_BYTES
    if content_type == "image/jpeg":
        if fp.read(2) != b"\xff\xd8":
            raise BadContainer("not a JPEG (no SOI marker)")
        while True:
            head = fp.read(2)
            if len(head) < 2 or head[0] != 0xFF:
                return None  # the end, or entropy data where a marker should be
            marker = head[1]
            if marker == 0xFF:
                fp.seek(-1, 1)  # a fill byte
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                continue
            if marker in (0xDA, 0xD9):  # image data (or the end): no metadata after
                return None
            (length,) = struct.unpack(">H", _exact(fp, 2))
            if length < 2:
                raise BadContainer("a JPEG segment shorter than its length field")
            if marker == 0xE1 and length - 2 >= len(JPEG_XMP_HEADER):
                start = fp.read(len(JPEG_XMP_HEADER))
                rest = length - 2 - len(start)
                if start == JPEG_XMP_HEADER:
                    return fp.read(rest)
                fp.seek(rest, 1)
            else:
                fp.seek(length - 2, 1)
    if content_type == "image/png":
        if fp.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            raise BadContainer("not a PNG (no signature)")
        for ctype, length in png_file_chunks(fp):
            if ctype == b"iTXt" and length <= limit + 1024:
                text = _png_itxt_text(fp.read(length))
                if text is not None:
                    return text
        return None
    if content_type == "image/webp":
        head = fp.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
            raise BadContainer("not a WebP (no RIFF/WEBP header)")
        for fourcc, size in riff_file_chunks(fp):
            if fourcc == b"XMP " and size <= limit:
                return fp.read(size)
    return None


# --- reading the fields ------------------------------------------------------------------


def parse_packet(packet: bytes) -> ET.Element | None:
    """The packet's XML tree, or ``None`` for one too large, with a DTD or entities, or
    not XML."""
    if len(packet) > rules.MAX_XMP_PACKET_BYTES:
        return None
    try:
        root: ET.Element = safe_fromstring(packet, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError):
        return None
    return root


def descriptions(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{{{NS_RDF}}}Description"))


def lang_alt_value(prop: ET.Element) -> str | None:
    """A Lang Alt property's value: ``x-default``, else the first language; a plain
    string value (some tools write one) as it is."""
    items = [li for alt in prop.iter(f"{{{NS_RDF}}}Alt") for li in alt.findall(f"{{{NS_RDF}}}li")]
    if not items:
        items = list(prop.iter(f"{{{NS_RDF}}}li"))  # a Bag or Seq where Alt belongs
    if not items:
        return prop.text.strip() if prop.text and prop.text.strip() else None
    for li in items:
        if li.get(f"{{{NS_XML}}}lang", "").lower() == "x-default":
            return li.text or ""
    return items[0].text or ""


def field(root: ET.Element, namespaces: tuple[str, ...], name: str) -> str | None:
    for desc in descriptions(root):
        for ns in namespaces:
            attr = desc.get(f"{{{ns}}}{name}")  # the short (attribute) form
            if attr is not None:
                return attr
            prop = desc.find(f"{{{ns}}}{name}")
            if prop is not None:
                value = lang_alt_value(prop)
                if value is not None:
                    return value
    return None


def describe_packet(packet: bytes | None) -> FileDescription:
    if not packet:
        return NOTHING
    root = parse_packet(packet)
    if root is None:
        return NOTHING
    alt = field(root, ACCESSIBILITY_NAMESPACES, ALT_TEXT)
    long = field(root, ACCESSIBILITY_NAMESPACES, EXT_DESCR)
    caption = field(root, (NS_DC,), "description") or field(root, (NS_PHOTOSHOP,), "Headline")
    return FileDescription(_fits_alt(alt), _fits_long(long), caption or None)


def _fits_alt(value: str | None) -> str | None:
    """Alt text over the limit (or with characters the library refuses) is not taken."""
    try:
        return rules.normalize_alt_text(value)
    except InvalidAltText:
        return None


def _fits_long(value: str | None) -> str | None:
    try:
        return rules.normalize_long_description(value)
    except InvalidLongDescription:
        return None


def describe_file(path: Path, content_type: str) -> FileDescription:
    """What the file at ``path`` says about itself; ``NOTHING`` when it says nothing or
    cannot be read. Never raises for a file's content: a broken packet is no packet."""
    return describe_packet(packet_of(path, content_type))


def packet_of(path: Path | BinaryIO, content_type: str) -> bytes | None:
    """``read_packet``, ``None`` for a file that cannot be read or whose container is
    broken: for a caller that wants the packet for more than one reading (an upload's
    texts and its GPS, ``exif_read.read_file``) without finding it twice."""
    try:
        return read_packet(path, content_type)
    except (OSError, BadContainer, struct.error):
        return None


def exif_caption(path: Path) -> str | None:
    """EXIF ImageDescription (0x010E), read from the header without decoding pixels."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            value = img.getexif().get(0x010E)
    except Exception:  # any file Pillow cannot read has no caption to offer
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip() or None if isinstance(value, str) else None


def caption_suggestion(path: Path, content_type: str) -> str | None:
    """A caption, headline or EXIF description the window may offer as alt text ("Use the
    caption"); never taken as alt text by itself."""
    caption = describe_file(path, content_type).caption or exif_caption(path)
    if caption is None:
        return None
    return caption[: rules.MAX_ALT_TEXT_CHARS]
