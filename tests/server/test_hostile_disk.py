"""The disk in the way, through ``imageshelf serve``: on a full disk the library still
opens, read-only (listings, /i and thumbnails already made work; every write is a 507);
an unfinished move whose intent no longer fits does not stop the next open."""

from __future__ import annotations

import io
import os
import sqlite3
from pathlib import Path

import requests

from imageshelf.app.library import Library
from tests.conftest import image_bytes
from tests.mounts import tmpfs
from tests.server.serve_process import ServeProcess

TOKEN = "hostile-disk-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def serve(processes: list[ServeProcess], library: Path) -> ServeProcess:
    proc = ServeProcess(library, "--port", "0", env={"IMAGESHELF_API_TOKEN": TOKEN})
    processes.append(proc)
    return proc.start()


def fill(directory: Path) -> None:
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)


def test_a_full_disk_opens_the_library_read_only(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "disk", "16m") as disk:
        root = disk / "lib"
        with Library.open(root) as lib:
            kept = [
                lib.add(io.BytesIO(image_bytes("JPEG", (300, 200 + n))), f"k{n}.jpg", folder=f)
                for n, f in enumerate([None, "trip", "trip"])
            ]
            lib.thumbnail(kept[0].id)
        fill(disk)
        proc = serve(processes, root)
        base = proc.base_url
        listed = requests.get(f"{base}/v3/images", headers=AUTH, timeout=30)
        assert listed.status_code == 200 and listed.json()["total"] == 3
        assert requests.get(f"{base}/v3/images/folders", headers=AUTH, timeout=30).json() == {
            "folders": ["trip"]
        }
        for image in kept:
            original = requests.get(f"{base}/i/{image.id}", timeout=30)
            assert original.status_code == 200 and original.content[:3] == b"\xff\xd8\xff"
        assert requests.get(f"{base}/i/{kept[0].id}?variant=thumbnail", timeout=30).ok
        writes = [
            requests.post(
                f"{base}/v3/images", headers=AUTH, files={"file": ("n.png", image_bytes("PNG"))}
            ),
            requests.patch(f"{base}/v3/images/{kept[1].id}", headers=AUTH, json={"alt_text": "x"}),
            requests.patch(f"{base}/v3/images/{kept[1].id}", headers=AUTH, json={"folder": None}),
            requests.delete(f"{base}/v3/images/{kept[2].id}", headers=AUTH),
        ]
        for reply in writes:
            assert reply.status_code == 507, reply.text
            assert reply.json()["error"]["code"] == "storage_error"
        assert "read-only" in proc.text()
        assert proc.stop() == 0
        (disk / "filler").unlink()
        with Library.open(root) as lib:  # writable again: nothing was lost or changed
            assert not lib.read_only
            assert sorted(r.id for r in lib.list_images().items) == sorted(i.id for i in kept)


def test_an_unfinished_move_that_no_longer_fits_does_not_block_the_open(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    root = tmp_path / "lib"
    with Library.open(root) as lib:
        moved = lib.add(io.BytesIO(image_bytes("PNG", (40, 30))), "a.png")
        other = lib.add(io.BytesIO(image_bytes("PNG", (50, 30))), "b.png")
    # What a move's failed clean-up leaves: the intent still recorded, the source gone,
    # and the destination name taken by another image since.
    (root / "a.png").unlink()
    db = sqlite3.connect(root / ".imageshelf" / "library.db")
    with db:
        db.execute("UPDATE images SET pending_path = ? WHERE id = ?", ("\x1fb.png", moved.id))
    db.close()
    proc = serve(processes, root)
    base = proc.base_url
    assert requests.get(f"{base}/i/{other.id}", timeout=30).status_code == 200
    assert requests.get(f"{base}/i/{moved.id}", timeout=30).status_code == 410
