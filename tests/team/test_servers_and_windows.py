"""What issue 20 is done by: a team runs two servers and three windows on one PostgreSQL
+ S3 library. Two ``imageshelf serve`` processes (tests/team/test_two_servers.py) and
three windows (pytest-qt, each on a ``Library.open_team`` of its own: its own database
connections and its own change listener, as a window process has): an upload through
one server reaches every window's grid and the other server's ``/v3/events`` and
listing; a folder made in one window stands, empty, in the other two. Every wait is on
a condition with a timeout; how long each took is printed, never asserted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import QSettings

from imageshelf.app.library import Library, storage_from_url
from imageshelf.app.ui.main_window import MainWindow
from imageshelf.app.ui.server_control import ServerController
from tests.conftest import image_bytes
from tests.s3_server import s3_bucket, s3_server
from tests.server.test_kill_recovery import AUTH, TIMEOUT
from tests.team.test_two_servers import processes, storage_url, two

__all__ = ["processes", "s3_bucket", "s3_server", "storage_url", "two"]

WAIT_MS = 15_000  # a loaded CI machine; the figures printed say how long it really took


@pytest.fixture
def windows(
    pg_database: str, storage_url: str, tmp_path: Path, qtbot
) -> Iterator[list[MainWindow]]:
    made: list[MainWindow] = []
    for n in range(3):
        storage = storage_from_url(storage_url + "?path_style=1", tmp_path / f"window{n}")
        library = Library.open_team(pg_database, storage)
        settings = QSettings(str(tmp_path / f"settings{n}.ini"), QSettings.Format.IniFormat)
        win = MainWindow(library, settings, ServerController(library, host="127.0.0.1", port=0))
        qtbot.addWidget(win)
        win.show()
        made.append(win)
    for win in made:
        qtbot.waitExposed(win)
    yield made
    for win in made:
        win.close()
        win.library.close()


def test_an_upload_through_one_server_reaches_every_window_and_the_other_server(
    two: list, windows: list[MainWindow], qtbot
) -> None:
    one, other = two[0].base_url, two[1].base_url
    since = requests.get(f"{other}/v3/events", headers=AUTH, timeout=TIMEOUT).json()
    heard: list[tuple[float, dict]] = []

    def listen() -> None:  # the other server's long-poll, begun before the upload
        reply = requests.get(
            f"{other}/v3/events",
            headers=AUTH,
            params={"since": since["next_since"], "wait": 20},
            timeout=TIMEOUT,
        )
        heard.append((time.monotonic(), reply.json()))

    listener = threading.Thread(target=listen)
    listener.start()
    reply = requests.post(
        f"{one}/v3/images",
        headers=AUTH,
        files={"file": ("team.png", image_bytes("PNG", color=(20, 160, 90)))},
        data={"alt_text": "Uploaded through one server", "folder": "shared"},
        timeout=TIMEOUT,
    )
    assert reply.status_code == 201, reply.text
    acknowledged = time.monotonic()
    image_id = reply.json()["id"]

    took: list[float] = []
    for win in windows:  # in every window's grid, its row's record the uploaded one
        qtbot.waitUntil(lambda w=win: w.model.row_of(image_id) is not None, timeout=WAIT_MS)
        took.append(time.monotonic() - acknowledged)
        row = win.model.row_of(image_id)
        assert row is not None
        assert win.model.record(row).alt_text == "Uploaded through one server"
        qtbot.waitUntil(lambda w=win: w.tree.totals.get("shared") == 1, timeout=WAIT_MS)

    listener.join(TIMEOUT)
    assert heard, "the other server's /v3/events never answered"
    arrived, body = heard[0]
    assert [e["event"] for e in body["events"] if e["id"] == image_id] == ["image.created"]
    listed = requests.get(f"{other}/v3/images?folder=shared", headers=AUTH, timeout=TIMEOUT)
    assert [r["id"] for r in listed.json()["result"]] == [image_id]
    print(
        "\nafter the 201: windows "
        + ", ".join(f"{t * 1000:.0f} ms" for t in took)
        + f"; the other server's /v3/events {max(0.0, arrived - acknowledged) * 1000:.0f} ms"
    )

    # A folder made in one window stands, empty, in the other two (folders_keyed.py).
    windows[0].library.make_folder("made in window 1")
    for win in windows[1:]:
        qtbot.waitUntil(lambda w=win: w.tree.totals.get("made in window 1") == 0, timeout=WAIT_MS)
