"""The decode budget through the real server: animations cost what their frames hold,
not frames × screen; frame and pixel limits refuse from the headers; a frame bomb in the
library folder does not stall start-up; an upload whose client has gone stops waiting.
Memory is measured (the child's peak RSS), not only the status."""

from __future__ import annotations

import socket
import sqlite3
import threading
from pathlib import Path

import requests

from imageshelf.app.library import Library
from imageshelf.app.library.decode_budget import DECODE_BUDGET
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.hostile_inputs import apng_claiming, gif_frame_bomb, multipart
from tests.server.http_helpers import AUTH as LIVE_AUTH
from tests.server.serve_process import ServeProcess

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

TOKEN = "hostile-decode-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MB = 1024 * 1024
# A frame bomb may cost its one screen-sized first frame (100 MB of palette pixels) and
# the interpreter; compositing its 60 frames cost 1.1 GB.
FRAME_BOMB_RSS_LIMIT = 600 * MB


def serve(processes: list[ServeProcess], library: Path) -> ServeProcess:
    proc = ServeProcess(library, "--port", "0", env={"IMAGESHELF_API_TOKEN": TOKEN})
    processes.append(proc)
    return proc.start()


def upload(base: str, data: bytes, name: str) -> requests.Response:
    return requests.post(
        f"{base}/v3/images", headers=AUTH, files={"file": (name, data)}, timeout=120
    )


def test_a_gif_frame_bomb_is_decoded_at_its_frames_size(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    proc = serve(processes, tmp_path / "lib")
    bomb = gif_frame_bomb(60)
    assert len(bomb) < 2000
    reply = upload(proc.base_url, bomb, "bomb.gif")
    assert reply.status_code == 201, reply.text
    assert (reply.json()["width"], reply.json()["height"]) == (10000, 10000)
    thumb = requests.get(reply.json()["thumbnail_url"], timeout=60)
    assert thumb.status_code == 200
    peak = proc.peak_rss_bytes()
    assert peak is not None and peak < FRAME_BOMB_RSS_LIMIT, f"peak RSS {peak / MB:.0f} MB"


def test_frames_and_decoded_pixels_are_refused_from_the_headers(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    proc = serve(processes, tmp_path / "lib")
    cases = [
        (gif_frame_bomb(100_000, (64, 64)), "many.gif", "too_many_frames"),
        (apng_claiming(5000, (16, 16)), "many.png", "too_many_frames"),
        (apng_claiming(200, (10000, 10000)), "huge.png", "too_many_pixels"),
    ]
    for data, name, code in cases:
        reply = upload(proc.base_url, data, name)
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]["code"] == code
    listed = requests.get(f"{proc.base_url}/v3/images", headers=AUTH, timeout=30).json()
    assert listed["total"] == 0
    peak = proc.peak_rss_bytes()
    assert peak is not None and peak < FRAME_BOMB_RSS_LIMIT, f"peak RSS {peak / MB:.0f} MB"


def test_a_frame_bomb_in_the_library_folder_does_not_stall_start_up(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    # 100,000 frames on a 10000×10000 screen: composited, ≈ 10 hours of CPU.
    (root / "bomb.gif").write_bytes(gif_frame_bomb(100_000))
    (root / "small-bomb.gif").write_bytes(gif_frame_bomb(60))
    (root / "fine.jpg").write_bytes(image_bytes())
    proc = serve(processes, root)  # start() fails after 60 s without the ready line
    listed = requests.get(f"{proc.base_url}/v3/images", headers=AUTH, timeout=30).json()
    assert sorted(i["filename"] for i in listed["result"]) == ["fine.jpg", "small-bomb.gif"]
    assert proc.stop() == 0
    db = sqlite3.connect(root / ".imageshelf" / "library.db")
    try:
        reasons = dict(db.execute("SELECT path, reason FROM ignored_files"))
    finally:
        db.close()
    assert reasons == {"bomb.gif": "too_many_frames"}
    peak = proc.peak_rss_bytes()
    assert peak is None or peak < FRAME_BOMB_RSS_LIMIT


def _raw_upload(port: int, body: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST /v3/images HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: {LIVE_AUTH['Authorization']}\r\n"
        "Content-Type: multipart/form-data; boundary=xXx\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def _wait_for(condition: object, timeout: float = 15.0) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if condition():  # type: ignore[operator]
            return True
        done.wait(0.02)
    return bool(condition())  # type: ignore[operator]


def test_an_upload_whose_client_has_gone_stops_waiting_and_keeps_nothing(
    live_server: BackgroundServer, library: Library
) -> None:
    body = multipart([(b"file", image_bytes("PNG", (300, 200)), b"gone.png")])
    with DECODE_BUDGET.hold(DECODE_BUDGET.limit, timeout=5):
        sock = _raw_upload(live_server.port, body)
        # The part streamed into tmp/ and the upload now waits for the budget.
        assert _wait_for(lambda: any(library.tmp_dir.iterdir()))
        sock.close()
        # Noticed while still waiting: the request ends and its file goes.
        assert _wait_for(lambda: not any(library.tmp_dir.iterdir())), "still waiting"
    assert library.count() == 0


def test_a_local_import_waits_for_the_budget_instead_of_failing(library: Library) -> None:
    import io

    added: list[str] = []

    def add() -> None:
        added.append(library.add(io.BytesIO(image_bytes("PNG")), "waits.png").id)

    with DECODE_BUDGET.hold(DECODE_BUDGET.limit, timeout=5):
        worker = threading.Thread(target=add)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and not added  # queued behind the held budget
    worker.join(30)
    assert len(added) == 1 and library.count() == 1


def test_declared_size_bombs_of_the_new_formats_are_refused_from_their_headers(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    """AVIF, HEIC, TIFF, BMP and ICO files of a few KB declaring 20000×20000: refused
    without decoding (an icon's PNG is measured from its own header, not its directory),
    so the server's memory stays where a small upload leaves it (86 MB measured)."""
    from tests import hostile_inputs

    proc = serve(processes, tmp_path / "lib")
    bombs = {
        "bomb.bmp": hostile_inputs.bmp_bomb(),
        "bomb.tiff": hostile_inputs.tiff_bomb(),
        "bomb.ico": hostile_inputs.ico_bomb(),
        "bomb.heic": hostile_inputs.isobmff_bomb("HEIF"),
        "bomb.avif": hostile_inputs.isobmff_bomb("AVIF"),
    }
    for name, data in bombs.items():
        assert len(data) < 20_000, name
        reply = upload(proc.base_url, data, name)
        assert reply.status_code == 400, (name, reply.text)
        assert reply.json()["error"]["code"] in ("too_many_pixels", "malformed_image"), name
    listed = requests.get(f"{proc.base_url}/v3/images", headers=AUTH, timeout=30).json()
    assert listed["total"] == 0
    peak = proc.peak_rss_bytes()
    # 400 megapixels decoded would be 1.2 GB or more.
    assert peak is not None and peak < 300 * MB, f"peak RSS {peak / MB:.0f} MB"
