"""One process at a time: a second ``Library.open`` of the same folder is refused with a
clear message, and a lock left by a killed process is taken over."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from imageshelf.app.library import Library, LibraryLocked
from tests.conftest import image_bytes

REPO = Path(__file__).resolve().parents[2]

TRY_OPEN = """
import sys
from imageshelf.app.library import Library, LibraryLocked
try:
    Library.open(sys.argv[1]).close()
except LibraryLocked as exc:
    print(exc.code)
    print(exc.message)
    sys.exit(3)
print("opened")
"""

HOLD_OPEN = """
import sys
from imageshelf.app.library import Library
lib = Library.open(sys.argv[1])
print("ready", flush=True)
sys.stdin.read()
"""


def python(script: str, *args: str, **kw) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=REPO, text=True, **kw)


def test_a_second_process_is_refused_with_a_clear_message(library: Library) -> None:
    proc = python(TRY_OPEN, str(library.root), stdout=subprocess.PIPE)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3
    code, message = out.splitlines()[:2]
    assert code == "library_locked"
    assert "already open" in message
    assert str(library.root) in message
    assert f"pid {os.getpid()}" in message


def test_a_second_open_in_the_same_process_is_refused_too(library: Library) -> None:
    with pytest.raises(LibraryLocked):
        Library.open(library.root)
    assert library.list_images().total == 0  # the first one is unharmed


def test_closing_releases_the_lock(library_path: Path) -> None:
    Library.open(library_path).close()
    proc = python(TRY_OPEN, str(library_path), stdout=subprocess.PIPE)
    out, _ = proc.communicate(timeout=60)
    assert (proc.returncode, out.strip()) == (0, "opened")


def test_a_lock_left_by_a_killed_process_is_taken_over(library_path: Path) -> None:
    holder = python(HOLD_OPEN, str(library_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(LibraryLocked):
            Library.open(library_path)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)
    lock_file = library_path / ".imageshelf" / "lock"
    assert lock_file.read_text().strip() == str(holder.pid)  # left behind by the dead one
    with Library.open(library_path) as lib:
        rec = lib.add(io.BytesIO(image_bytes("JPEG")), "after.jpg")
        assert lib.get(rec.id) == rec
        assert lock_file.read_text().strip() == str(os.getpid())
