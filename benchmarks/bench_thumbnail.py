"""Target 1: the thumbnail pipeline.

- A 12 MP JPEG: ``imaging.inspect`` (what an upload runs: validate completely, measure,
  make the thumbnail, encode it) against decoding the same JPEG at 1/4 scale — the floor,
  since entropy decoding reads every byte whatever the scale. Goal ≤ 1.25×.
- A 12 MP PNG: the same call against a plain full decode (PNG cannot decode at reduced
  scale). Goal ≤ 1.15×.
- Made once: after ``Library.add``, asking for the thumbnail (what ``/i?variant=thumbnail``
  and the grid do) must find the upload's thumbnail, never decode the original again.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from PIL import Image

from imageshelf.app.library import Library, imaging

from .common import Result, missing, ratio_result, report, time_pair
from .generate import sample_image


def _decode_quarter(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", (img.width // 4, img.height // 4))
        img.load()


def _decode_full(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as img:
        img.load()


def _inspect(data: bytes) -> None:
    imaging.inspect(io.BytesIO(data))


def _made_once(data: bytes) -> Result:
    """Counts decodes of the original after upload: must be zero."""
    calls = 0
    real = imaging.inspect_path

    def counting(path: Path) -> imaging.ImageInfo:
        nonlocal calls
        calls += 1
        return real(path)

    with tempfile.TemporaryDirectory() as tmp, Library.open(Path(tmp) / "lib") as lib:
        record = lib.add(io.BytesIO(data), "photo.jpg")
        imaging.inspect_path = counting  # type: ignore[assignment]
        try:
            _, thumb = lib.thumbnail(record.id)
            # A library opened afresh (empty in-memory cache) must find it on disk too.
            lib.thumbnails._known.clear()
            _, again = lib.thumbnail(record.id)
        finally:
            imaging.inspect_path = real  # type: ignore[assignment]
    met = calls == 0 and thumb.path == again.path
    return Result(
        "1c",
        "decodes of the original when serving the thumbnail after upload",
        float(calls),
        "",
        None,
        "0 (made once at upload)",
        met,
    )


def run(quick: bool = False) -> list[Result]:
    repeat = 9 if quick else 21
    results: list[Result] = []
    jpeg = sample_image("JPEG", 12)
    figure, floor = time_pair(lambda: _inspect(jpeg), lambda: _decode_quarter(jpeg), repeat=repeat)
    results.append(
        ratio_result(
            "1a",
            "12 MP JPEG → thumbnail (validate+thumb+encode) vs 1/4-scale decode",
            figure,
            floor,
            "ms",
            at_most=1.25,
        )
    )
    png = sample_image("PNG", 12)
    figure, floor = time_pair(
        lambda: _inspect(png), lambda: _decode_full(png), repeat=max(3, repeat // 2)
    )
    results.append(
        ratio_result(
            "1b",
            "12 MP PNG → thumbnail vs full decode",
            figure,
            floor,
            "ms",
            at_most=1.15,
        )
    )
    try:
        results.append(_made_once(sample_image("JPEG", 2)))
    except Exception as exc:  # a benchmark reports, it does not crash the table
        results.append(missing("1c", "thumbnail made once", f"failed: {exc!r}"))
    return results


if __name__ == "__main__":
    report(run("--quick" in sys.argv))
