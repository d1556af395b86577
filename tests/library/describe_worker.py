"""A process that saves alt text with *Write alt text into image files* on, in a loop,
until it is killed (by test_write_back_kill). ``python describe_worker.py LIBRARY``.

Prints ``saving <n>`` before each save and ``saved <n> <sha256>`` after it returned, so
the test knows which text the library promised and which one was in flight."""

from __future__ import annotations

import sys

from imageshelf.app.library import Library


def main(path: str) -> None:
    lib = Library.open(path)
    ids = [r.id for r in lib.list_images(page_size=100).items]
    print("ready", flush=True)
    n = 0
    while True:
        for image_id in ids:
            n += 1
            print("saving", n, flush=True)
            record = lib.update(image_id, alt_text=f"text {n}", long_description=f"long {n}")
            print("saved", n, record.sha256, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
