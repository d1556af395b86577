"""The trash at scale (issue 13): what a delete, a restore and a purge cost per image on a
library of N images (10,000 by default), and how long "Empty trash" of all of them takes.
Prints figures; nothing is asserted (tests never time anything).

    python -m benchmarks.bench_trash [N]

Run on a copy of the generated library (benchmarks/generate.py), so the cached one stays
whole."""

from __future__ import annotations

import time

from .generate import scratch_library

SAMPLE = 1_000


def per_image_ms(seconds: float, n: int) -> str:
    return f"{seconds / n * 1000:6.2f} ms/image"


def main(argv: list[str] | None = None) -> int:
    with scratch_library(argv) as lib:
        n = lib.count()
        lib.trash.stop_keeper()
        ids = [
            r.id
            for p in range(1, n // 100 + 2)
            for r in lib.list_images(page=p, page_size=100).items
        ]
        sample = ids[:SAMPLE]

        start = time.perf_counter()
        for image_id in sample:
            lib.delete(image_id)
        trash_s = time.perf_counter() - start
        start = time.perf_counter()
        for image_id in sample:
            lib.trash.restore(image_id)
        restore_s = time.perf_counter() - start

        start = time.perf_counter()
        lib.trash.move_many(ids)  # what the window's Delete of a selection does
        trash_all_s = time.perf_counter() - start
        start = time.perf_counter()
        listed = lib.trash.items(page=len(ids) // 25, page_size=25)
        page_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        purged = lib.trash.empty()
        empty_s = time.perf_counter() - start

        print(f"library of {n:,} images ({len(ids):,} listed)")
        print(f"delete (to the trash), {SAMPLE:,} one by one: {per_image_ms(trash_s, SAMPLE)}")
        print(f"restore, {SAMPLE:,} one by one:              {per_image_ms(restore_s, SAMPLE)}")
        print(
            f"delete all {len(ids):,} (move_many):          {trash_all_s:6.1f} s "
            f"({per_image_ms(trash_all_s, len(ids))}, batches of 200)"
        )
        print(f"a deep trash page (page {listed.page}):              {page_ms:6.2f} ms")
        print(
            f"empty trash of {purged:,}:                  {empty_s:6.1f} s "
            f"({per_image_ms(empty_s, purged)}, in batches of 500)"
        )
        print(f"purge vs delete per image:                  {empty_s / trash_all_s:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
