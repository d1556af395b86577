"""A process killed with SIGKILL at random points while it renames and moves a big
folder: at the next open every image is present, in one place, with its id, alt text
and bytes, and no intent is left over."""

from __future__ import annotations

import io
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from imageshelf.app.library import Library
from imageshelf.app.library.folder_ops import KEEP_MARKER
from imageshelf.app.library.layout import META_DIR
from tests.library.helpers import library_files, sha256, tmp_leftovers

WORKER = Path(__file__).with_name("folder_crash_worker.py")
REPO = Path(__file__).resolve().parents[2]
IMAGES = 240
KILLS = 8

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def tiny_png(i: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8 + i % 50, 8), (i % 256, (i * 7) % 256, 3)).save(out, "PNG")
    return out.getvalue()


def populate(path: Path) -> dict[str, tuple[str, str, str]]:
    """{id: (alt text, sha256, folder below the big one)}."""
    made = {}
    with Library.open(path) as lib:
        for i in range(IMAGES):
            inner = ["", "/inner", "/inner/ñ"][i % 3]
            rec = lib.add(
                io.BytesIO(tiny_png(i)), f"{i}.png", alt_text=f"alt {i} é", folder="big" + inner
            )
            made[rec.id] = (rec.alt_text, rec.sha256, inner)
    return made


def run_and_kill(path: Path, seed: int) -> list[list[str]]:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(path), str(seed)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    rng = random.Random(seed)
    lines: list[list[str]] = []
    try:
        assert proc.stdout is not None
        acks = rng.randrange(0, 4)
        while True:
            line = proc.stdout.readline()
            assert line, "the worker ended before it was killed"
            lines.append(line.rstrip("\n").split("\t"))
            if lines[-1][0] == "moved":
                acks -= 1
            if lines[-1][0] == "moving" and acks <= 0:
                break
        # Somewhere inside this operation (one takes a few milliseconds).
        time.sleep(rng.uniform(0, 0.02))
    finally:
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read() if proc.stdout else ""
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return lines + [line.split("\t") for line in rest.splitlines()]


def test_killed_while_renaming_a_big_folder(library_path: Path) -> None:
    made = populate(library_path)
    place = {"big"}
    caught_mid_way = 0
    for round_ in range(KILLS):
        lines = run_and_kill(library_path, seed=round_)
        for words in lines:
            if words[0] == "moving":
                place = {words[1], words[2]}
            elif words[0] == "moved":
                place = {words[1]}
        with sqlite3.connect(library_path / META_DIR / "library.db") as raw:
            pending = raw.execute(
                "SELECT COUNT(*) FROM images WHERE pending_path IS NOT NULL"
            ).fetchone()[0]
        caught_mid_way += bool(pending)
        with Library.open(library_path) as lib:
            with lib.engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT id, folder, filename, alt_text, sha256, pending_path FROM images")
                ).all()
            assert len(rows) == IMAGES
            tops = set()
            owned = set()
            for r in rows:
                alt, digest, inner = made[r.id]
                assert (r.alt_text, r.sha256, r.pending_path) == (alt, digest, None)
                top = r.folder.removesuffix(inner)
                assert r.folder == top + inner
                tops.add(top)
                data = (lib.root / r.folder / r.filename).read_bytes()
                assert sha256(data) == digest
                owned.add(f"{r.folder}/{r.filename}")
            assert len(tops) == 1, f"the images are split between {tops}"
            assert tops <= place
            on_disk = {
                p
                for p in library_files(lib.root)
                if (lib.root / p).is_file() and not p.endswith(KEEP_MARKER)
            }
            assert on_disk == owned
            assert tmp_leftovers(lib) == []
            place = tops
    print(f"{caught_mid_way} of {KILLS} kills left intents to finish or undo")


KILL_AT = """
import os, sys
from imageshelf.app.library import Library, folder_ops
real_rename = os.rename
def rename_then_die(src, dst):
    if sys.argv[2] == "after":
        real_rename(src, dst)
    os._exit(9)  # as a SIGKILL would: no clean-up, no commit
folder_ops.os.rename = rename_then_die
Library.open(sys.argv[1]).rename_folder("big", "renamed")
"""


@pytest.mark.parametrize(("point", "expected"), [("before", "big"), ("after", "renamed")])
def test_each_kill_point_is_undone_or_finished(library_path: Path, point, expected) -> None:
    """The two moments a kill can leave something to do: intents recorded but the folder
    not renamed yet (undone), the folder renamed but the rows not updated (finished)."""
    made = populate(library_path)
    done = subprocess.run(
        [sys.executable, "-c", KILL_AT, str(library_path), point], cwd=REPO, check=False
    )
    assert done.returncode == 9
    with sqlite3.connect(library_path / META_DIR / "library.db") as raw:
        assert raw.execute(
            "SELECT COUNT(*) FROM images WHERE pending_path IS NOT NULL"
        ).fetchone() == (IMAGES,)
    with Library.open(library_path) as lib:
        for image_id, (alt, digest, inner) in made.items():
            rec = lib.get(image_id)
            assert (rec.folder, rec.alt_text, rec.sha256) == (expected + inner, alt, digest)
            assert sha256((lib.root / rec.relpath).read_bytes()) == digest
        assert lib.count(folder=expected, recursive=True) == IMAGES
