"""Writing IPTC alt text and extended description into a file's XMP packet, at the
container level: the compressed image data is copied byte for byte, never decoded or
re-encoded (Pillow's ``save(xmp=...)`` would re-encode the pixels).

- JPEG: the XMP APP1 segment (``http://ns.adobe.com/xap/1.0/\\0`` + packet) is replaced,
  or inserted after the JFIF/EXIF segments; a packet over 65,502 bytes does not fit one
  segment and is refused.
- PNG: the ``iTXt`` chunk with keyword ``XML:com.adobe.xmp`` is replaced, or inserted
  after ``IHDR`` (before the image data, where XMP readers look first).
- WebP: the RIFF ``XMP `` chunk; a simple (``VP8 ``/``VP8L``) file becomes an extended
  one with a ``VP8X`` header carrying the XMP flag and the canvas size.

Every other segment or chunk (EXIF, ICC, other XMP properties) is kept; in the packet,
only the two accessibility properties change (other languages of them are kept)."""

from __future__ import annotations

import contextlib
import struct
import threading
import xml.etree.ElementTree as ET
import zlib
from io import BytesIO
from pathlib import Path
from typing import Final

from . import rules
from .errors import MetadataNotWritable
from .xmp_read import (
    ALT_TEXT,
    EXT_DESCR,
    JPEG_XMP_HEADER,
    NS_IPTC_CORE,
    NS_IPTC_EXT,
    NS_RDF,
    NS_X,
    NS_XML,
    PNG_SIGNATURE,
    PNG_XMP_KEYWORD,
    BadContainer,
    descriptions,
    jpeg_segments,
    packet_from_bytes,
    parse_packet,
    png_chunks,
    webp_chunks,
)

# Prefixes the serialised packet uses for namespaces every XMP reader knows.
_KNOWN_PREFIXES: Final = {
    "x": NS_X,
    "rdf": NS_RDF,
    "Iptc4xmpCore": NS_IPTC_CORE,
    "Iptc4xmpExt": NS_IPTC_EXT,
    "dc": "http://purl.org/dc/elements/1.1/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "stRef": "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "exifEX": "http://cipa.jp/exif/1.0/",
    "crs": "http://ns.adobe.com/camera-raw-settings/1.0/",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
}
# ElementTree's prefix table is process-wide: registering a packet's own prefixes and
# serialising happen under one lock so two threads never mix their prefixes.
_SERIALISE_LOCK: Final = threading.Lock()
for _prefix, _uri in _KNOWN_PREFIXES.items():
    ET.register_namespace(_prefix, _uri)

_XPACKET_BEGIN: Final = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_XPACKET_END: Final = '<?xpacket end="w"?>'
# Room for another tool to edit the packet in place, as the XMP specification advises.
_PADDING: Final = 2048

# VP8X flags (WebP container specification).
_VP8X_ICC: Final = 0x20
_VP8X_ALPHA: Final = 0x10
_VP8X_XMP: Final = 0x04


# --- the packet --------------------------------------------------------------------------


def _prefixes(packet: bytes) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    try:
        for _event, (prefix, uri) in ET.iterparse(BytesIO(packet), events=("start-ns",)):
            found.append((prefix, uri))
    except ET.ParseError:
        pass
    return found


def _new_tree() -> ET.Element:
    root = ET.Element(f"{{{NS_X}}}xmpmeta")
    ET.SubElement(root, f"{{{NS_RDF}}}RDF")
    return root


def _lang_alt(tag: str, value: str, old: ET.Element | None) -> ET.Element:
    """``<tag><rdf:Alt><rdf:li xml:lang="x-default">value</rdf:li>...``, keeping the other
    languages an older value of the property had."""
    prop = ET.Element(tag)
    alt = ET.SubElement(prop, f"{{{NS_RDF}}}Alt")
    li = ET.SubElement(alt, f"{{{NS_RDF}}}li", {f"{{{NS_XML}}}lang": "x-default"})
    li.text = value
    if old is not None:
        for other in old.iter(f"{{{NS_RDF}}}li"):
            lang = other.get(f"{{{NS_XML}}}lang", "")
            if lang and lang.lower() != "x-default":
                kept = ET.SubElement(alt, f"{{{NS_RDF}}}li", {f"{{{NS_XML}}}lang": lang})
                kept.text = other.text
    return prop


def set_accessibility(
    packet: bytes | None, alt_text: str | None, long_description: str | None
) -> bytes:
    """The packet with ``Iptc4xmpCore:AltTextAccessibility`` and ``ExtDescrAccessibility``
    set to these values (``None`` removes the property; ``""``, decorative, is written as
    an empty value), every other property as it was. A packet that cannot be parsed is
    replaced by a new one rather than edited blindly."""
    parsed = parse_packet(packet) if packet else None
    # Prefixes are read only from a packet defusedxml has accepted (no DTD, no entities).
    prefixes = _prefixes(packet) if packet and parsed is not None else []
    root = parsed if parsed is not None else _new_tree()
    if root.tag == f"{{{NS_RDF}}}RDF":
        wrapper = ET.Element(f"{{{NS_X}}}xmpmeta")
        wrapper.append(root)
        root = wrapper
    rdf = root.find(f".//{{{NS_RDF}}}RDF")
    if rdf is None:
        rdf = ET.SubElement(root, f"{{{NS_RDF}}}RDF")
    old: dict[str, ET.Element] = {}
    for desc in descriptions(root):
        for ns in (NS_IPTC_CORE, NS_IPTC_EXT):
            for name in (ALT_TEXT, EXT_DESCR):
                tag = f"{{{ns}}}{name}"
                attr = desc.attrib.pop(tag, None)
                if attr is not None and name not in old:
                    old[name] = _lang_alt(tag, attr, None)
                for prop in desc.findall(tag):
                    old.setdefault(name, prop)
                    desc.remove(prop)
    targets = descriptions(root)
    if targets:
        target = targets[0]
    else:
        target = ET.SubElement(rdf, f"{{{NS_RDF}}}Description", {f"{{{NS_RDF}}}about": ""})
    for name, value in ((ALT_TEXT, alt_text), (EXT_DESCR, long_description)):
        if value is not None:
            target.append(_lang_alt(f"{{{NS_IPTC_CORE}}}{name}", value, old.get(name)))
    return _serialise(root, prefixes)


def _serialise(root: ET.Element, prefixes: list[tuple[str, str]]) -> bytes:
    with _SERIALISE_LOCK:
        for prefix, uri in prefixes:
            if prefix and prefix != "xml" and _KNOWN_PREFIXES.get(prefix, uri) == uri:
                with contextlib.suppress(ValueError):  # ns0-style: ElementTree's own
                    ET.register_namespace(prefix, uri)
        body = ET.tostring(root, encoding="unicode")
        # Back to the standard prefixes for the standard namespaces.
        for prefix, uri in _KNOWN_PREFIXES.items():
            ET.register_namespace(prefix, uri)
    return (_XPACKET_BEGIN + body + "\n").encode()


def finish_packet(body: bytes, limit: int | None = None) -> bytes:
    """Padding (where it fits ``limit``) and the closing processing instruction."""
    end = _XPACKET_END.encode()
    padding = _PADDING
    if limit is not None:
        padding = max(0, min(_PADDING, limit - len(body) - len(end)))
    lines = b"".join(b" " * 99 + b"\n" for _ in range(padding // 100))
    return body + lines + b" " * (padding - len(lines)) + end


# --- the containers ----------------------------------------------------------------------


def _embed_jpeg(data: bytes, packet_body: bytes) -> bytes:
    packet = finish_packet(packet_body, rules.MAX_JPEG_XMP_PACKET_BYTES)
    if len(packet) > rules.MAX_JPEG_XMP_PACKET_BYTES:
        raise MetadataNotWritable(
            f"The XMP packet would be {len(packet):,} bytes; a JPEG holds at most "
            f"{rules.MAX_JPEG_XMP_PACKET_BYTES:,} in one segment. Nothing was written."
        )
    segment = (
        b"\xff\xe1"
        + struct.pack(">H", 2 + len(JPEG_XMP_HEADER) + len(packet))
        + JPEG_XMP_HEADER
        + packet
    )
    segments = list(jpeg_segments(data))
    xmp = [
        (s, e) for m, s, e in segments if m == 0xE1 and data[s + 4 : e].startswith(JPEG_XMP_HEADER)
    ]
    if xmp:
        out = bytearray(data[: xmp[0][0]]) + segment
        pos = xmp[0][1]
        for start, end in xmp[1:]:  # a second standard packet would contradict the first
            out += data[pos:start]
            pos = end
        return bytes(out + data[pos:])
    # After SOI and the leading JFIF (APP0) / EXIF (APP1) segments, where readers expect it.
    insert = 2
    for marker, _start, end in segments:
        if marker not in (0xE0, 0xE1):
            break
        insert = end
    return data[:insert] + segment + data[insert:]


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def _embed_png(data: bytes, packet_body: bytes) -> bytes:
    # iTXt: keyword, NUL, compression flag 0, method 0, empty language, NUL, empty
    # translated keyword, NUL, UTF-8 text.
    body = PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + finish_packet(packet_body)
    chunk = _png_chunk(b"iTXt", body)
    out = bytearray(data[: len(PNG_SIGNATURE)])
    for ctype, start, end in png_chunks(data):
        if ctype == b"iTXt" and data[start + 8 : end - 4].startswith(PNG_XMP_KEYWORD + b"\x00"):
            continue
        out += data[start:end]
        if ctype == b"IHDR":
            out += chunk
    return bytes(out)


def _webp_chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def _webp_canvas(data: bytes, fourcc: bytes, start: int) -> tuple[int, int, bool]:
    """Canvas width, height and whether it has alpha, from a simple file's bitstream."""
    payload = data[start + 8 : start + 18]
    if fourcc == b"VP8 ":
        if len(payload) < 10 or payload[3:6] != b"\x9d\x01\x2a":
            raise BadContainer("VP8 bitstream without its start code")
        width, height = struct.unpack("<HH", payload[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if fourcc == b"VP8L":
        if len(payload) < 5 or payload[0] != 0x2F:
            raise BadContainer("VP8L bitstream without its signature")
        bits = int.from_bytes(payload[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise BadContainer(f"a WebP file starting with a {fourcc!r} chunk")


def _embed_webp(data: bytes, packet_body: bytes) -> bytes:
    chunks = list(webp_chunks(data))
    if not chunks:
        raise BadContainer("a WebP file without chunks")
    xmp = _webp_chunk(b"XMP ", finish_packet(packet_body))
    kept = [data[s:e] for c, s, e in chunks if c != b"XMP "]
    first, start, _ = chunks[0]
    if first == b"VP8X":
        head = bytearray(kept[0])
        head[8] |= _VP8X_XMP
        kept[0] = bytes(head)
    else:
        width, height, alpha = _webp_canvas(data, first, start)
        flags = _VP8X_XMP | (_VP8X_ALPHA if alpha else 0)
        vp8x = (
            bytes((flags, 0, 0, 0))
            + (width - 1).to_bytes(3, "little")
            + (height - 1).to_bytes(3, "little")
        )
        kept.insert(0, _webp_chunk(b"VP8X", vp8x))
    body = b"WEBP" + b"".join(kept) + xmp
    return b"RIFF" + struct.pack("<I", len(body)) + body


_EMBEDDERS: Final = {
    "image/jpeg": _embed_jpeg,
    "image/png": _embed_png,
    "image/webp": _embed_webp,
}


def sniff_content_type(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def check_writable(content_type: str) -> None:
    if content_type not in rules.XMP_WRITABLE_TYPES:
        kind = content_type.removeprefix("image/").upper()
        raise MetadataNotWritable(
            f"{kind} files cannot carry alt text; it stays in the library only. "
            "JPEG, PNG and WebP files can carry it."
        )


def embed_alt_text(
    src: bytes | Path,
    alt_text: str | None,
    long_description: str | None = None,
    content_type: str | None = None,
) -> bytes:
    """The file's bytes with its XMP carrying these accessibility fields: for write-back
    into the library and for the copies exports make. Raises ``MetadataNotWritable`` for
    a format that cannot carry them (GIF) or a packet that does not fit (JPEG), and
    ``BadContainer`` for a file whose structure is broken."""
    data = src.read_bytes() if isinstance(src, Path) else bytes(src)
    content_type = content_type or sniff_content_type(data) or "application/octet-stream"
    check_writable(content_type)
    packet = packet_from_bytes(data, content_type)
    body = set_accessibility(packet, alt_text, long_description)
    try:
        return _EMBEDDERS[content_type](data, body)
    except (struct.error, IndexError) as exc:
        raise BadContainer(f"the file's structure is broken ({exc})") from None
