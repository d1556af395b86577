"""A process that uploads into a library on S3 until it is killed (test_s3_kill).

Usage: ``python s3_upload_worker.py DB_FOLDER S3_URL COUNT``. Adds ``COUNT`` images, each
acknowledged on stdout (``added <id>``) only after ``add`` returned; then starts one more
upload and, the moment its object is written (before its row commits), says
``put <key>`` and waits on stdin for the kill that never lets it commit."""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path
from typing import Any

from PIL import Image

from imageshelf.app.library import Library, storage_from_url


def noise_png(rng: random.Random) -> bytes:
    side = rng.randrange(60, 160)
    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=0)
    return out.getvalue()


def main() -> None:
    db, url, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    storage = storage_from_url(url, db / "staging")
    rng = random.Random(7)
    with Library.open(db, storage=storage) as lib:
        for i in range(count):
            record = lib.add(io.BytesIO(noise_png(rng)), f"n{i}.png", folder="uploads")
            print("added", record.id, flush=True)
        puts: Any = storage.puts  # type: ignore[attr-defined]
        real_put = puts.put

        def put_then_stall(key: str, body: Any) -> bool:
            written = real_put(key, body)  # the object is in the store now
            print("put", key, flush=True)
            sys.stdin.read()  # held here, between the PUT and the commit
            return bool(written)

        puts.put = put_then_stall
        lib.add(io.BytesIO(noise_png(rng)), "last.png", folder="uploads")
        print("committed (never)", flush=True)


if __name__ == "__main__":
    main()
