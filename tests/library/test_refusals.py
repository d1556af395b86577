"""Everything that is not a complete image of an accepted format within the limits is refused
with the right code, and a refusal leaves nothing behind (checked by ``refused``)."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from imageshelf.app.library import files, rules
from tests.conftest import image_bytes
from tests.library.helpers import on_disk

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

REPO = Path(__file__).resolve().parents[2]


def noise(fmt: str, size: tuple[int, int] = (160, 160), frames: int = 1) -> bytes:
    """An image that does not compress away, so that cutting it short really cuts pixels."""
    imgs = [Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) for _ in range(frames)]
    if fmt == "GIF":
        imgs = [i.convert("P") for i in imgs]
    out = io.BytesIO()
    imgs[0].save(out, fmt, save_all=frames > 1, append_images=imgs[1:])
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` 1-bit pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def gif_declaring(width: int, height: int) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0, 0, 0)
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return b"GIF89a" + screen + frame + b"\x02\x02\x4c\x01\x00\x3b"


def png_of_exactly(total: int) -> bytes:
    """A valid PNG padded to ``total`` bytes with a private ancillary chunk before IEND."""
    small = image_bytes("PNG", size=(8, 8))
    iend = png_chunk(b"IEND", b"")
    assert small.endswith(iend)
    body = small[: -len(iend)]
    pad = total - len(body) - len(iend) - 12
    data = body + png_chunk(b"prVt", b"\0" * pad) + iend
    assert len(data) == total
    return data


# --- not an image we accept ------------------------------------------------------------


def ppm() -> bytes:
    return image_bytes("PPM")


def tga() -> bytes:
    return image_bytes("TGA")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "malformed_image"),
        (os.urandom(4096), "unsupported_format"),
        (b"hello, this is plain text and not a picture\n" * 20, "unsupported_format"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n", "unsupported_format"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><rect width="10" height="10"/></svg>',
            "unsupported_format",
        ),
        (ppm(), "unsupported_format"),
        (tga(), "unsupported_format"),
        # A polyglot: something else first, a whole PNG later in the file.
        (b"%PDF-1.4\n" + image_bytes("PNG"), "unsupported_format"),
        (b"<html><body>hi</body></html>" + image_bytes("PNG"), "unsupported_format"),
    ],
    ids=["empty", "random", "text", "pdf", "svg", "ppm", "tga", "pdf+png", "html+png"],
)
def test_refused_formats(refused, data, code) -> None:
    err = refused(data, "innocent.png", folder="made/for/it")
    assert err.code == code
    assert err.message  # something a person can read


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
@pytest.mark.parametrize("keep", [0.5, 0.95])
def test_truncated_images_are_refused(refused, fmt, keep) -> None:
    data = noise(fmt)
    err = refused(data[: int(len(data) * keep)], "cut." + fmt.lower())
    assert err.code == "malformed_image"


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_cut_in_a_later_frame_is_refused(refused, fmt) -> None:
    data = noise(fmt, size=(80, 80), frames=4)
    assert refused(data[: int(len(data) * 0.85)], "anim").code == "malformed_image"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_only_a_signature_is_malformed_not_unsupported(refused, fmt) -> None:
    assert refused(image_bytes(fmt)[:16], "stub").code == "malformed_image"


# --- decompression bombs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        png_declaring(10_001, 10_000),
        png_declaring(30_000, 30_000),
        gif_declaring(10_001, 10_000),
        gif_declaring(60_000, 60_000),
    ],
    ids=["png-just-over", "png-900mp", "gif-just-over", "gif-3600mp"],
)
def test_decompression_bombs_are_refused(refused, data) -> None:
    assert len(data) < 2000
    assert refused(data, "bomb.png").code == "too_many_pixels"


def test_bombs_are_refused_without_allocating_their_pixels(tmp_path) -> None:
    """In a fresh process, so that its peak memory belongs to this check alone."""
    script = f"""
import io, resource
from imageshelf.app.library import Library, TooManyPixels
from tests.library.test_refusals import png_declaring, gif_declaring
with Library.open({str(tmp_path / "lib")!r}) as lib:
    for data in (png_declaring(30_000, 30_000), gif_declaring(60_000, 60_000)):
        try:
            lib.add(io.BytesIO(data), "bomb")
        except TooManyPixels:
            pass
        else:
            raise SystemExit("accepted a bomb")
import re  # VmHWM: this process's own peak; ru_maxrss also counts the parent's RSS at fork
print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    peak_kib = int(out.stdout.split()[-1])
    # A 900-megapixel canvas would need gigabytes; the interpreter and Pillow need ~100 MB.
    assert peak_kib < 300 * 1024


# --- size ------------------------------------------------------------------------------


def test_exactly_ten_mib_is_accepted(library, add) -> None:
    data = png_of_exactly(rules.MAX_UPLOAD_BYTES)
    rec = add(data, "big.png")
    assert rec.size == 10 * 1024 * 1024
    assert on_disk(library, rec).read_bytes() == data


def test_one_byte_over_ten_mib_is_too_large(refused) -> None:
    err = refused(png_of_exactly(rules.MAX_UPLOAD_BYTES + 1), "big.png")
    assert err.code == "too_large"


class EndlessStream(io.RawIOBase):
    """A body that never ends; counts what was read from it."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = len(buffer)
        buffer[:n] = b"\xff" * n
        self.served += n
        return n


def test_a_stream_that_never_ends_is_cut_off_at_the_limit(refused) -> None:
    stream = EndlessStream()
    err = refused(stream, "endless.jpg")
    assert err.code == "too_large"
    assert stream.served <= rules.MAX_UPLOAD_BYTES + files.CHUNK
