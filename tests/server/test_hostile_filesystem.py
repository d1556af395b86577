"""Every write stays inside the library, even where a folder in it is a symbolic link to
another place: uploads and moves into it, moves and deletes out of it are refused with a
clear 400 and nothing outside changes. Through the live server."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from imageshelf.app.library import Library
from imageshelf.app.library.reconcile import Reconciler
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.server.http_helpers import HttpApi


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(directory.rglob("*"))
    }


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    place = tmp_path / "outside"
    place.mkdir()
    (place / "victim.jpg").write_bytes(image_bytes())
    return place


@pytest.mark.parametrize("folder", ["out", "out/sub", "out/sub/deeper"])
def test_uploads_through_a_linked_folder_are_refused(
    live_server: BackgroundServer, library: Library, outside: Path, folder: str
) -> None:
    (library.root / "out").symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    reply = HttpApi(live_server.base_url).upload(image_bytes(), "x.jpg", folder=folder)
    assert reply.status == 400, reply.body
    assert reply.error_code == "invalid_folder"
    assert snapshot(outside) == before
    assert library.count() == 0


def test_moves_and_deletes_through_a_linked_folder_are_refused(
    live_server: BackgroundServer, library: Library, outside: Path
) -> None:
    api = HttpApi(live_server.base_url)
    inside = api.upload_ok(image_bytes("PNG"), "in.png", folder="real")
    root_image = api.upload_ok(image_bytes("GIF"), "root.gif")
    (library.root / "out").symlink_to(outside, target_is_directory=True)
    # Into the link:
    reply = api.request("PATCH", f"/v3/images/{root_image['id']}", json_body={"folder": "out"})
    assert reply.status == 400 and reply.error_code == "invalid_folder"
    # A folder of the library swapped for a link by another program: its row still
    # names real/in.png, which now resolves outside.
    (outside / "in.png").write_bytes(b"a file of someone else's")
    os.replace(library.root / "real" / "in.png", library.root / "in-kept.png")
    (library.root / "real").rmdir()
    (library.root / "real").symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    reply = api.request("PATCH", f"/v3/images/{inside['id']}", json_body={"folder": None})
    assert reply.status == 400 and reply.error_code == "invalid_folder"
    reply = api.request("DELETE", f"/v3/images/{inside['id']}")
    assert reply.status == 400 and reply.error_code == "invalid_folder"
    assert snapshot(outside) == before


def test_a_linked_folder_is_never_adopted(library: Library, outside: Path) -> None:
    (library.root / "out").symlink_to(outside, target_is_directory=True)
    library.reconcile()
    # The watcher reconciles the paths it saw change: "out" itself, or a file in it.
    Reconciler(library.core).run(scope=["out"])
    Reconciler(library.core).run(scope=["out/victim.jpg"])
    library.add(io.BytesIO(image_bytes("PNG")), "fine.png")
    assert [r.filename for r in library.list_images().items] == ["fine.png"]
