"""The floor of issue 21's targets 1 and 2: a bare two-process pipeline that reads each
photo, hashes it (sha256) and decodes it at reduced scale (JPEG draft mode to the
thumbnail box), nothing else: no thumbnail, no EXIF, no database. Adoption and import do
that and more; their rate is judged against this one, measured in the same run."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

BOX = (512, 512)  # rules.THUMBNAIL_BOX, repeated so the floor imports nothing of ours


def decode_and_hash(path: str) -> str:
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", BOX)
        img.load()
    return digest


def _ready() -> None:
    """A warm-up task: the workers' start (Python, Pillow) is not the pipeline's rate."""
    decode_and_hash.__name__  # noqa: B018


def floor_rate(paths: list[Path], processes: int = 2) -> float:
    """Images per second of the bare pipeline over ``paths``."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=ctx) as pool:
        list(pool.map(decode_and_hash, [str(p) for p in paths[:processes]]))
        start = time.perf_counter()
        list(pool.map(decode_and_hash, [str(p) for p in paths], chunksize=4))
        return len(paths) / (time.perf_counter() - start)
