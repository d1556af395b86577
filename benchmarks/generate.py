"""A realistic library of N images for the benchmarks, built once and cached.

``python -m benchmarks.generate 100000`` (or ``library(n)`` from a benchmark) returns the
path of a ready library under ``benchmarks/.data/lib-N``; a later call reuses it.

What is real: every row has a real image file of its format (JPEG, PNG with and without
alpha, GIF, WebP) at sizes from 320 px to 2 MP, in folders up to three levels deep, with
alt texts that are ``None``, ``""`` or prose (some of it non-ASCII), Unicode file names,
custom_metadata (``_custom_metadata``), and its thumbnail already in the cache (made by
the library's own ``imaging.inspect``).

What is shortcut, because 100,000 uploads through ``Library.add`` take far longer than the
10-minute budget: a thousand *distinct* images are made and inspected once, and each
row's file is a hard link to one of them (same inode, so same size and mtime: the
reconciliation at open trusts them without reading, exactly as it trusts an unchanged
library). The rows are inserted directly with SQLAlchemy, a few thousand per
transaction, through the same schema and triggers as ``Library.add`` (``folder_counts``
and the FTS5 index are maintained by the triggers). Rows cycle through the distinct
images, so any screenful of the grid shows distinct thumbnails, while identical images
share one thumbnail (keyed by content hash, as in a real library with duplicates).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import text
from ulid import ULID

from imageshelf.app.library import Library, imaging, rules
from imageshelf.app.library.filters import search_text

DATA_DIR = Path(__file__).parent / ".data"
GENERATOR_VERSION = "6"  # bump to rebuild cached libraries after changing this file
MARKER = "benchmark-library"
BATCH_ROWS = 5000
# More distinct images than the window's thumbnail cache holds (800), so scrolling the
# grid from top to bottom decodes thumbnails all the way, as in a real library.
DISTINCT_IMAGES = 1000

FOLDERS: list[str | None] = [
    None,
    "brand",
    "brand/logos",
    "brand/logos/ñandú",
    "headshots",
    "headshots/2024",
    "products",
    "products/shoes",
    "products/shoes/summer",
    "products/bags",
    "blog",
    "blog/2023",
    "blog/2024",
    "blog/2025",
    "events/conference Ω",
    "events/conference Ω/day 1",
    "events/conference Ω/day 2",
    "travel",
    "travel/日本",
    "travel/España/Sevilla",
]
PROSE = (
    "a red bicycle leaning on a stone wall at dusk with a dog asleep beside it "
    "portrait of a smiling woman in a yellow raincoat holding an umbrella "
    "café façade with blue shutters and crème brûlée sign naïve mural "
    "logo on a white background product shot of leather shoes on a wooden floor "
    "mountain lake reflection under clouds 富士山 夕焼け Sevilla catedral río"
)
WORDS = PROSE.split()
NAME_STEMS = ("IMG", "DSC", "photo", "café", "screenshot", "übersicht", "写真", "scan", "logo")


@dataclass(frozen=True)
class Source:
    """One distinct image file and the facts its rows share."""

    path: Path
    fmt: rules.ImageFormat
    size: int
    mtime_ns: int
    sha256: str
    width: int
    height: int


def _picture(rng: random.Random, size: tuple[int, int], mode: str, grain: int = 4) -> Image.Image:
    """Not flat colour: gradients, shapes and noise, so encoders produce realistic sizes.
    ``grain`` 1 gives camera-like per-pixel noise (and camera-like JPEG sizes)."""
    w, h = size
    base = Image.linear_gradient("L").resize(size).rotate(rng.randrange(360))
    r = Image.radial_gradient("L").resize(size)
    # Noise made small and scaled up: grain an encoder has to spend bytes on, made cheaply.
    noise = Image.effect_noise((w // grain + 1, h // grain + 1), rng.uniform(20, 60))
    noise = noise.resize(size)
    img = Image.merge("RGB", (base, r, noise))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = rng.randrange(w), rng.randrange(h)
        dx, dy = rng.randrange(w // 3 + 1), rng.randrange(h // 3 + 1)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + dx, y + dy), fill=colour)
        else:
            draw.rectangle((x, y, x + dx, y + dy), fill=colour)
    if mode == "RGBA":
        alpha = Image.radial_gradient("L").resize(size)
        img.putalpha(alpha)
    return img


def _encode(rng: random.Random, index: int) -> tuple[bytes, rules.ImageFormat]:
    roll = index % 20
    sizes = [(320, 240), (640, 480), (800, 600), (1024, 768), (1280, 960), (1600, 1200)]
    size = sizes[rng.randrange(len(sizes))]
    if rng.random() < 0.3:
        size = (size[1], size[0])  # portrait
    out = io.BytesIO()
    if roll < 12:  # most libraries are mostly photos
        _picture(rng, size, "RGB").save(out, "JPEG", quality=rng.choice((75, 85, 92)))
        return out.getvalue(), rules.JPEG
    if roll < 15:
        mode = "RGBA" if roll == 14 else "RGB"
        _picture(rng, (size[0] // 2, size[1] // 2), mode).save(out, "PNG", compress_level=1)
        return out.getvalue(), rules.PNG
    if roll < 17:
        small = (size[0] // 3, size[1] // 3)
        frames = [
            _picture(rng, small, "RGB").convert("P", palette=Image.Palette.ADAPTIVE)
            for _ in range(1 + roll % 2 * 2)
        ]
        frames[0].save(out, "GIF", save_all=len(frames) > 1, append_images=frames[1:])
        return out.getvalue(), rules.GIF
    _picture(rng, size, "RGBA" if roll == 19 else "RGB").save(out, "WEBP", quality=80, method=0)
    return out.getvalue(), rules.WEBP


def _make_source(pool: Path, index: int, seed: int) -> tuple[Source, bytes, str]:
    """One distinct image written to ``pool`` and inspected by the library's own code
    (in a worker process: this is the slow, CPU-bound part of generating)."""
    data, fmt = _encode(random.Random(seed * 1_000_003 + index), index)
    path = pool / f"source-{index:05d}{fmt.extension}"
    path.write_bytes(data)
    info = imaging.inspect_path(path)
    sha = hashlib.sha256(data).hexdigest()
    st = path.stat()
    source = Source(path, fmt, st.st_size, st.st_mtime_ns, sha, info.width, info.height)
    return source, info.thumbnail, info.thumbnail_type


def _make_sources(lib: Library, count: int, seed: int) -> list[Source]:
    """The distinct images, kept in the library's hidden folder (never scanned), made on
    every core and thumbnailed through the library's own pipeline."""
    pool = lib.meta / "bench-sources"
    pool.mkdir(exist_ok=True)
    sources: list[Source] = []
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as workers:
        made = workers.map(_make_source, [pool] * count, range(count), [seed] * count)
        for source, thumb, thumb_type in made:
            lib.thumbnails.store(source.sha256, thumb, thumb_type)
            sources.append(source)
    return sources


def _alt_text(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.30:
        return None
    if roll < 0.40:
        return ""
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 16))).capitalize()


def _build(root: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    distinct = min(n, DISTINCT_IMAGES)
    started = time.perf_counter()
    with Library.open(root, reconcile=False) as lib:
        sources = _make_sources(lib, distinct, seed)
        print(f"  {distinct} distinct images in {time.perf_counter() - started:.1f}s", flush=True)
        for folder in FOLDERS:
            if folder:
                (root / folder).mkdir(parents=True, exist_ok=True)
        # Oldest first, a few minutes apart, ending now: ids are ULIDs of the same instant.
        now_us = time.time_ns() // 1000
        step_us = 180 * 1_000_000
        rows: list[dict[str, object]] = []
        for i in range(n):
            src = sources[i % distinct]
            folder = FOLDERS[rng.randrange(len(FOLDERS))]
            stem = f"{NAME_STEMS[i % len(NAME_STEMS)]}_{i:06d}"
            name = stem + src.fmt.extension
            dest = root / folder / name if folder else root / name
            os.link(src.path, dest)
            created = now_us - (n - i) * step_us
            alt = _alt_text(rng)
            original = f"{stem}{src.fmt.extension}" if i % 7 else f"{stem} (copy).JPG"
            rows.append(
                {
                    "id": rules.ID_PREFIX + str(ULID.from_timestamp(created / 1e6)),
                    "folder": folder or "",
                    "filename": name,
                    "original": original,
                    "ctype": src.fmt.content_type,
                    "size": src.size,
                    "w": src.width,
                    "h": src.height,
                    "sha": src.sha256,
                    "mtime": src.mtime_ns,
                    "alt": alt,
                    "search": search_text(name, original, alt),
                    "created": created,
                    "meta": _custom_metadata(i),
                    # EXIF date taken (0009): four in five photos have one, spread over
                    # years and not in the order they were added; exif_read: already read.
                    "taken": created - rng.randrange(0, 10 * 365 * 86_400) * 1_000_000
                    if i % 5
                    else None,
                }
            )
            if len(rows) == BATCH_ROWS or i == n - 1:
                _insert(lib, rows)
                rows = []
        print(f"  {n} rows and links in {time.perf_counter() - started:.1f}s", flush=True)
        with lib.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    (root / ".imageshelf" / MARKER).write_text(f"{GENERATOR_VERSION} {n}\n")


def _custom_metadata(i: int) -> str | None:
    """custom_metadata as a script might set it: most images carry a SKU (1,000 values:
    each in 0.1% of rows), a batch number (10 values: 10% each) and a print flag (half
    true); every tenth has none; one in a thousand carries a rare "recall" key."""
    if i % 10 == 9:
        return None
    meta: dict[str, object] = {"sku": f"SKU-{i % 1000:04d}", "batch": i % 10, "print": i % 2 == 0}
    if i % 1000 == 0:
        meta["recall"] = "2026-Q4"
    return json.dumps(meta, separators=(",", ":"))


def _insert(lib: Library, rows: list[dict[str, object]]) -> None:
    with lib.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO images (id, folder, filename, original_filename, content_type, "
                "size, width, height, sha256, mtime_ns, alt_text, search_text, created_at, "
                "updated_at, custom_metadata, taken_at, exif_read) VALUES (:id, :folder, "
                ":filename, :original, :ctype, :size, :w, :h, :sha, :mtime, :alt, :search, "
                ":created, :created, :meta, :taken, 1)"
            ),
            rows,
        )


def library(n: int) -> Path:
    """The path of a ready benchmark library of ``n`` images (built on first use)."""
    root = DATA_DIR / f"lib-{n}"
    marker = root / ".imageshelf" / MARKER
    if marker.exists() and marker.read_text().split() == [GENERATOR_VERSION, str(n)]:
        return root
    if root.exists():
        shutil.rmtree(root)
    print(f"Generating a library of {n:,} images in {root} (cached for later runs)...", flush=True)
    root.mkdir(parents=True)
    _build(root, n)
    return root


@contextlib.contextmanager
def scratch_library(argv: list[str] | None, default_n: int = 10_000) -> Iterator[Library]:
    """A throw-away copy of the benchmark library of ``argv[0]`` (or ``default_n``)
    images, opened: for benchmarks that change what they measure."""
    args = sys.argv[1:] if argv is None else argv
    source = library(int(args[0]) if args else default_n)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lib"
        shutil.copytree(source, root)
        with Library.open(root, reconcile=False) as lib:
            yield lib


def sample_image(kind: str, megapixels: float, seed: int = 1) -> bytes:
    """One realistic photo-like image (``"JPEG"`` or ``"PNG"``) of about ``megapixels``,
    cached under ``.data`` since a 12 MP PNG takes seconds to encode."""
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    size = (width, width * 3 // 4)
    path = DATA_DIR / f"photo-{kind.lower()}-{size[0]}x{size[1]}-{seed}.{kind.lower()}"
    if path.exists():
        return path.read_bytes()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    img = _picture(random.Random(seed), size, "RGB", grain=1)
    out = io.BytesIO()
    if kind == "JPEG":
        img.save(out, "JPEG", quality=90)
    else:
        img.save(out, "PNG", compress_level=6)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(out.getvalue())
    tmp.replace(path)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=1000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = library(args.n)
    print(f"{path} ready in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
