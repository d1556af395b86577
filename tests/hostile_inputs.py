"""Hostile inputs made byte by byte (tests and benchmarks/stress.py share them): frame
bombs, headers that lie, multipart bodies a browser would never send."""

from __future__ import annotations

import struct
import zlib


def gif_frame_bomb(frames: int = 60, screen: tuple[int, int] = (10000, 10000)) -> bytes:
    """A valid GIF: a huge logical screen and ``frames`` 1×1 frames (60 → 1.4 KB).
    Pillow composites each frame onto the whole screen (0.35 s and 100 MB each)."""
    width, height = screen
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0))
    out += b"\x00\x00\x00\xff\xff\xff"  # a two-colour global table
    for index in range(frames):
        out += b"\x21\xf9\x04\x00\x00\x00\x00\x00"  # graphic control: no delay
        out += b"\x2c" + struct.pack("<HHHHB", index % width, 0, 1, 1, 0)
        out += b"\x02\x02\x44\x01\x00"  # LZW: clear, colour 1, end
    out += b"\x3b"
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def apng_claiming(frames: int, size: tuple[int, int]) -> bytes:
    """An APNG head announcing ``frames`` frames of ``size``, one tiny real frame after:
    refusing it must take the headers only."""
    width, height = size
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    actl = struct.pack(">II", frames, 0)
    fctl = struct.pack(">IIIIIHHBB", 0, width, height, 0, 0, 1, 10, 0, 0)
    row = b"\x00" + b"\x00" * min(width, 16)
    idat = zlib.compress(row)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", ihdr),
            _png_chunk(b"acTL", actl),
            _png_chunk(b"fcTL", fctl),
            _png_chunk(b"IDAT", idat),
            _png_chunk(b"IEND", b""),
        )
    )


def multipart(parts: list[tuple[bytes, bytes, bytes | None]], boundary: bytes = b"xXx") -> bytes:
    """A multipart body from raw (name, value, filename) parts: bytes as given, so a
    test can put anything (invalid UTF-8 included) where a browser would not."""
    out = bytearray()
    for name, value, filename in parts:
        out += b"--" + boundary + b"\r\n"
        disposition = b'Content-Disposition: form-data; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
            out += disposition + b"\r\nContent-Type: application/octet-stream\r\n\r\n"
        else:
            out += disposition + b"\r\n\r\n"
        out += value + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    return bytes(out)


# --- the formats of "More formats": each with a header that declares a huge picture ------

BOMB_SIDE = 20_000  # 400 megapixels declared: four times the limit


def _pillow_bytes(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, fmt)
    return out.getvalue()


def bmp_bomb() -> bytes:
    """A 64×48 BMP whose header says 20000×20000 (BITMAPINFOHEADER width, height)."""
    data = bytearray(_pillow_bytes("BMP"))
    struct.pack_into("<ii", data, 18, BOMB_SIDE, BOMB_SIDE)
    return bytes(data)


def tiff_bomb() -> bytes:
    """A hand-made TIFF: 20000×20000 8-bit grey declared, one byte of strip data."""
    entries = [
        (256, 4, 1, BOMB_SIDE),  # ImageWidth, LONG
        (257, 4, 1, BOMB_SIDE),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # no compression
        (262, 3, 1, 1),  # black is zero
        (273, 4, 1, 0),  # StripOffsets: patched below
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, BOMB_SIDE),  # RowsPerStrip
        (279, 4, 1, 1),  # StripByteCounts
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    data_offset = 8 + ifd_size
    out = bytearray(b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        if tag == 273:
            value = data_offset
        packed = struct.pack("<H", value) + b"\x00\x00" if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    out += struct.pack("<I", 0) + b"\x00"
    return bytes(out)


def ico_bomb() -> bytes:
    """An icon whose directory says 16×16 but whose PNG inside is 20000×20000 of one
    colour (a few hundred KB of zlib data)."""
    ihdr = struct.pack(">IIBBBBB", BOMB_SIDE, BOMB_SIDE, 8, 0, 0, 0, 0)
    rows = zlib.compress((b"\x00" + b"\x00" * BOMB_SIDE) * 64, 9)  # a start is enough
    png = b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", ihdr),
            _png_chunk(b"IDAT", rows),
            _png_chunk(b"IEND", b""),
        )
    )
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(png), 6 + 16)
    return header + entry + png


def isobmff_bomb(fmt: str) -> bytes:
    """A real HEIF or AVIF (``fmt`` as Pillow names it) whose ``ispe`` boxes (the image's
    declared size) say 20000×20000."""
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    data = bytearray(_pillow_bytes(fmt))
    at = data.find(b"ispe")
    assert at > 0, "no ispe box"
    while at > 0:
        struct.pack_into(">II", data, at + 8, BOMB_SIDE, BOMB_SIDE)
        at = data.find(b"ispe", at + 4)
    return bytes(data)
