"""A folder of camera-like 12 MP JPEGs for the adoption and drop benchmarks (issue 21),
made once and cached under ``~/.cache/imageshelf-bench/photos-v{VERSION}-{N}``.

What is real: every file is a 4000×3000 JPEG of camera-like content (grain, gradients,
shapes; ≈ 2.5-3.2 MB at quality 90), starting as a camera's does with an APP1 ``Exif``
segment: make, model, date taken (distinct per file), orientation (1, and 6 on every
seventh: portrait shots), and GPS on every third. What is shortcut, because encoding 2,000
12 MP JPEGs takes minutes: a few distinct pictures are encoded once and each file is one
of them with its own EXIF segment spliced in after SOI, so every file has its own hash
(nothing is skipped as a duplicate) while each costs exactly a real photo's decode.

``python -m benchmarks.photo_set [N]`` builds (or finds) the set and prints its folder."""

from __future__ import annotations

import io
import os
import random
import shutil
import sys
from pathlib import Path

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from .generate import _picture

VERSION = "1"  # bump to rebuild the cached sets after changing this file
CACHE = Path(os.environ.get("IMAGESHELF_BENCH_CACHE", Path.home() / ".cache" / "imageshelf-bench"))
SIZE = (4000, 3000)
DISTINCT = 6
CAMERAS = (("Canon", "Canon EOS R6"), ("NIKON CORPORATION", "NIKON Z 6"), ("FUJIFILM", "X-T4"))


def _base_jpegs() -> list[bytes]:
    """The distinct pictures, encoded once, without Pillow's JFIF APP0 (cameras write
    Exif first)."""
    out = []
    for seed in range(DISTINCT):
        buf = io.BytesIO()
        _picture(random.Random(100 + seed), SIZE, "RGB", grain=1).save(buf, "JPEG", quality=90)
        data = buf.getvalue()
        assert data[:4] == b"\xff\xd8\xff\xe0"
        app0_len = int.from_bytes(data[4:6], "big")
        out.append(data[:2] + data[4 + app0_len :])
    return out


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round(((value - deg) * 60 - minutes) * 60 * 100)
    return IFDRational(deg, 1), IFDRational(minutes, 1), IFDRational(seconds, 100)


def exif_segment(i: int) -> bytes:
    """The APP1 Exif segment of the ``i``-th file."""
    make, model = CAMERAS[i % len(CAMERAS)]
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0112] = 6 if i % 7 == 3 else 1
    sub = exif.get_ifd(0x8769)
    day, second = divmod(i * 37, 86_400)
    taken = f"2024:{1 + day % 12:02d}:{1 + day % 28:02d} {second // 3600:02d}:"
    sub[0x9003] = taken + f"{second // 60 % 60:02d}:{second % 60:02d}"
    sub[0x829A] = IFDRational(1, 250)
    sub[0x829D] = IFDRational(28, 10)
    sub[0x8827] = 400
    if i % 3 == 0:
        gps = exif.get_ifd(0x8825)
        lat, lon = 37.38 + i * 1e-4, -5.99 - i * 1e-4
        gps[1], gps[2] = "N", _dms(lat)
        gps[3], gps[4] = "W", _dms(lon)
    body = exif.tobytes()  # starts with Exif\0\0
    return b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body


def photo_folder(n: int) -> Path:
    """The cached folder of ``n`` photos (``photo-00000.jpg`` ...), built on first use."""
    folder = CACHE / f"photos-v{VERSION}-{n}"
    if (folder / ".complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    bases = _base_jpegs()
    for i in range(n):
        base = bases[i % len(bases)]
        (folder / f"photo-{i:05d}.jpg").write_bytes(base[:2] + exif_segment(i) + base[2:])
    (folder / ".complete").write_text("ok\n")
    return folder


def photos(n: int) -> list[Path]:
    return sorted(photo_folder(n).glob("photo-*.jpg"))


def linked_copy(src: Path, dest: Path, paths: list[Path] | None = None) -> list[Path]:
    """``dest`` made afresh holding hard links to ``src``'s photos (or ``paths``): a new
    folder of the same files in no time and no space. Adoption only reads them."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    out = []
    for p in paths if paths is not None else sorted(src.glob("photo-*.jpg")):
        target = dest / p.name
        os.link(p, target)
        out.append(target)
    return out


if __name__ == "__main__":
    print(photo_folder(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
