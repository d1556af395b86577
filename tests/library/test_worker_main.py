"""Decode workers do not run the program's main module again (``fork_server``): launched
by the installed ``imageshelf`` script, each worker imported the whole command line tool
before its first photo; a program of someone's own would have run its top level once per
worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

PROGRAM = """
import os
import sys
from pathlib import Path

with open(sys.argv[1], "a") as ran:  # once per process that runs this file's top level
    ran.write(f"{os.getpid()}\\n")

from imageshelf.app.library.decode_workers import Examined, WorkerPool, examine_in_place

if __name__ == "__main__":
    photos = sys.argv[2:]
    with WorkerPool(2) as pool:
        results = [r for _p, r in pool.run(examine_in_place, photos, lambda p: (p,), Path)]
    assert all(isinstance(r, Examined) and r.info is not None for r in results), results
    print(os.getpid())
"""


def test_the_workers_leave_the_programs_main_module_alone(tmp_path: Path) -> None:
    photos = []
    for i in range(4):
        photos.append(tmp_path / f"photo-{i}.jpg")
        Image.new("RGB", (900 + i, 700), (40 * i, 120, 200)).save(photos[-1], "JPEG")
    program, ran = tmp_path / "adopt_them.py", tmp_path / "ran.txt"
    program.write_text(PROGRAM)
    out = subprocess.run(
        [sys.executable, str(program), str(ran), *map(str, photos)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # Every photo was examined in the workers, and the top level ran in the program alone.
    assert ran.read_text().split() == [out.stdout.strip()]
