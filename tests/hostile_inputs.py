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
