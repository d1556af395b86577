"""The memory-saving decode paths give exactly what Pillow's own would: a large still
WebP decoded with its decoder dropped early, an RGBA image reduced a strip at a time."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image, ImageChops

from imageshelf.app.library import imaging


# Small images through the same path (the threshold lowered): the test process must stay
# small, as other tests fork children that measure their own peak memory.
@pytest.fixture(autouse=True)
def lean_path_for_small_images(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imaging, "_BIG_WEBP_PIXELS", 100_000)


@pytest.mark.parametrize("mode", ["RGBA", "RGB"])
def test_a_large_still_webp_decodes_to_pillows_pixels(mode: str) -> None:
    size = (620, 410)
    tile = Image.frombytes(mode, (64, 64), os.urandom(64 * 64 * len(mode)))
    img = Image.new(mode, size)
    for x in range(0, size[0], 100):
        img.paste(tile, (x, x % 400))
    out = io.BytesIO()
    img.save(out, "WEBP", lossless=True, method=0)
    with Image.open(io.BytesIO(out.getvalue())) as theirs:
        theirs.load()
        with Image.open(io.BytesIO(out.getvalue())) as opened:
            ours = imaging._decode_big_webp(opened, io.BytesIO(out.getvalue()))
            ours.load()
            assert ours.mode == theirs.mode and ours.size == theirs.size
            assert ImageChops.difference(ours, theirs).getbbox() is None
    info = imaging.inspect(io.BytesIO(out.getvalue()))
    assert (info.width, info.height) == size


def test_a_truncated_large_webp_is_still_refused() -> None:
    img = Image.frombytes("RGBA", (620, 410), os.urandom(620 * 410 * 4))
    img.putpixel((5, 5), (200, 0, 0, 255))
    out = io.BytesIO()
    img.save(out, "WEBP", lossless=True, method=0)
    data = out.getvalue()
    with pytest.raises(imaging.MalformedImage):
        imaging.inspect(io.BytesIO(data[: len(data) * 2 // 3]))


@pytest.mark.parametrize(("size", "factor"), [((1001, 777), 3), ((640, 480), 2), ((3000, 17), 5)])
def test_reducing_in_strips_equals_one_reduce(
    monkeypatch: pytest.MonkeyPatch, size: tuple[int, int], factor: int
) -> None:
    monkeypatch.setattr(imaging, "_STRIP_PIXELS", 50_000)  # many strips
    for mode in ("RGBA", "LA"):
        img = Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))
        ours = imaging._reduce_in_strips(img, factor)
        assert ImageChops.difference(ours, img.reduce(factor)).getbbox() is None
