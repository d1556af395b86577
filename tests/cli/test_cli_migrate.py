"""``imageshelf migrate SRC DST`` as a person runs it: between two folder libraries,
killed half-way (kill -9) and run again, and refusing what it cannot do in one line."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imageshelf.app.library import Library
from imageshelf.app.library.layout import DB_FILE, META_DIR
from tests.cli.conftest import Cli
from tests.conftest import image_bytes


def _source(path: Path, n: int) -> list[str]:
    with Library.open(path) as lib:
        return [
            lib.add(io.BytesIO(image_bytes("PNG", color=(i, 40, 90))), f"p{i}.png", f"alt {i}").id
            for i in range(n)
        ]


def _rows(library: Path) -> int:
    db = library / META_DIR / DB_FILE
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM images").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not made yet
        return 0


def test_folder_to_folder_and_back(cli: Cli, tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b ñ", tmp_path / "c"
    ids = _source(a, 3)
    run = cli("migrate", str(a), str(b), library=None)
    assert run.code == 0, run.err
    assert "Copied 3 images" in run.out and "images: 3/3" in run.err
    back = cli("migrate", str(b), str(c), library=None)
    assert back.code == 0, back.err
    with Library.open(a) as first, Library.open(c) as last:
        assert [last.get(i) for i in ids] == [first.get(i) for i in ids]


def test_killed_half_way_then_run_again(tmp_path: Path) -> None:
    """kill -9 during the copy: every row in DST has its bytes (hash-checked), and the
    next run copies exactly what is missing. (A kill between a file's link and its
    commit leaves a complete file that the folder library's next open adopts, as it
    adopts any file put in its folder: then one extra image with those bytes.)"""
    a, b = tmp_path / "a", tmp_path / "b"
    ids = _source(a, 60)
    env = os.environ | {"PYTHONPATH": str(Path.cwd())}
    argv = [sys.executable, "-m", "imageshelf", "migrate", str(a), str(b)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _rows(b) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.communicate(timeout=30)
    copied = _rows(b)
    assert 3 <= copied < 60, "the kill came after the copy finished: nothing was proved"
    with Library.open(a) as src, Library.open(b) as dst:
        adopted = dst.count() - copied
        assert adopted in (0, 1)
        hashes = {src.get(i).sha256 for i in ids}
        listed = dst.list_images(page_size=100).items
        assert {r.sha256 for r in listed} <= hashes
        for image_id in ids:
            try:
                there = dst.get(image_id)
            except Exception:
                continue
            _, fp = dst.open_original(image_id)
            with fp:
                assert hashlib.sha256(fp.read()).hexdigest() == there.sha256
            assert there == src.get(image_id)
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"Copied {60 - copied} images" in again.stdout
    assert f"{copied} were there already" in again.stdout
    assert _rows(b) == 60 + adopted


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["only-one"], "give SRC and DST"),
        (["--to-database", "mysql://x/y", "--to-storage", "s3://b", "A"], "postgresql://"),
        (["--to-database", "postgresql://u@h/db", "A"], "needs both addresses"),
        (["--to-database", "postgresql://u@h", "--to-storage", "s3://b", "A"], "names no database"),
        (["--to-database", "postgresql://u@h/d", "--to-storage", "ftp://x", "A"], "s3://BUCKET"),
    ],
)
def test_refusals_in_one_line(cli: Cli, tmp_path: Path, args: list[str], says: str) -> None:
    run = cli("migrate", *args, library=None)
    assert run.code == 2 and says in run.err and "Traceback" not in run.err
    assert run.err.count("\n") == 1


def test_a_missing_source_and_the_same_library(cli: Cli, tmp_path: Path) -> None:
    missing = cli("migrate", str(tmp_path / "nowhere"), str(tmp_path / "b"), library=None)
    assert missing.code == 3 and "no Imageshelf library" in missing.err
    assert not (tmp_path / "b").exists()
    _source(tmp_path / "a", 1)
    same = cli("migrate", str(tmp_path / "a"), str(tmp_path / "a" / "."), library=None)
    assert same.code == 2 and "the same library" in same.err


def test_a_password_is_never_printed(cli: Cli, tmp_path: Path) -> None:
    _source(tmp_path / "a", 1)
    run = cli(
        "migrate",
        str(tmp_path / "a"),
        "--to-database",
        "postgresql://ann:s3cret@127.0.0.1:1/imageshelf",
        "--to-storage",
        str(tmp_path / "objects"),
        library=None,
    )
    assert run.code != 0 and "s3cret" not in run.err + run.out and "Traceback" not in run.err
