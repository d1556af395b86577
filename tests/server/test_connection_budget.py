"""The connection budget of the runner (server/connections.py), on a live waitress
server over loopback: slow heads and bodies are cut at their deadline, unread output
closes its connection without ever holding a worker, one address cannot take every
connection, and a normal client is served all the while. The GUI's embedded server is
the same ``BackgroundServer``."""

from __future__ import annotations

import io
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from imageshelf.server.connections import ConnectionLimits
from tests.server.http_helpers import AUTH, TOKEN
from tests.server.serve_process import ServeProcess
from tests.waiting import wait_for

SHORT = ConnectionLimits(
    head_seconds=1.0,
    body_seconds=1.0,
    body_min_rate=1024 * 1024,
    output_stall_seconds=2.0,
    per_address=24,
    total=200,
)


@pytest.fixture
def short_server(library: Library) -> Iterator[BackgroundServer]:
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN, limits=SHORT)
    server.start()
    yield server
    server.stop(timeout=5)


def open_connections(port: int, count: int, first_bytes: bytes = b"") -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if first_bytes:
            sock.sendall(first_bytes)
        socks.append(sock)
    return socks


def closed_by_server(sock: socket.socket, timeout: float = 15.0) -> bytes | None:
    """What the server sent before closing, or ``None`` if it kept the connection open."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def normal_client_ok(base: str, image_id: str | None = None, rounds: int = 10) -> None:
    with requests.Session() as session:
        for _ in range(rounds):
            assert session.get(f"{base}/v3/images", headers=AUTH, timeout=10).status_code == 200
            if image_id:
                assert session.get(f"{base}/i/{image_id}", timeout=10).status_code == 200


def test_a_hundred_slow_heads_lock_nobody_out(live_server: BackgroundServer) -> None:
    # Defaults: 98 such connections silenced waitress (connection_limit 100).
    slow = open_connections(live_server.port, 120, b"GET /v3/images HTTP/1.1\r\nHo")
    try:
        normal_client_ok(live_server.base_url)
    finally:
        for sock in slow:
            sock.close()


def test_a_trickled_head_is_cut_at_its_deadline(short_server: BackgroundServer) -> None:
    sock = open_connections(short_server.port, 1, b"G")[0]
    stop = threading.Event()

    def trickle() -> None:  # a byte every 0.2 s: never idle, never done
        for byte in b"ET /v3/images HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200:
            if stop.wait(0.2):
                return
            try:
                sock.send(bytes([byte]))
            except OSError:
                return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        answer = closed_by_server(sock)
    finally:
        stop.set()
        thread.join(5)
        sock.close()
    assert answer is not None, "the slow head was never cut"
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"request_timeout"' in answer


def test_a_slow_body_is_cut_at_its_deadline(short_server: BackgroundServer) -> None:
    head = (
        b"POST /v3/images HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n"
    )
    sock = open_connections(short_server.port, 1, head + b"--x\r\n")[0]
    try:
        assert closed_by_server(sock) is not None, "the slow body was never cut"
    finally:
        sock.close()


@pytest.fixture
def big_image(library: Library) -> str:
    """A 4 MB image: a few pipelined answers fill the socket buffers."""
    noise = Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    return library.add(io.BytesIO(out.getvalue()), "noise.png").id


def test_clients_that_never_read_hold_no_worker(
    short_server: BackgroundServer, big_image: str
) -> None:
    request = f"GET /i/{big_image} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    # Twice the worker threads, each with 40 pipelined GETs of 4 MB it never reads.
    stalled = open_connections(short_server.port, 16, request * 40)
    try:
        normal_client_ok(short_server.base_url, big_image)
        # ... and each is closed once its answers have gone unread for the stall time.
        channels = short_server._servers[0].active_channels
        wait_for(lambda: len(channels) <= 1, "every connection but one closed", timeout=20)
    finally:
        for sock in stalled:
            sock.close()


def test_one_address_cannot_take_every_connection(short_server: BackgroundServer) -> None:
    idle = open_connections(short_server.port, 3 * SHORT.per_address)
    try:
        channels = short_server._servers[0].active_channels
        wait_for(lambda: len(channels) <= SHORT.per_address, "the per-address limit", timeout=20)
        normal_client_ok(short_server.base_url)
        closed = sum(closed_by_server(sock, timeout=0.2) is not None for sock in idle)
        assert closed >= 2 * SHORT.per_address - 1
    finally:
        for sock in idle:
            sock.close()


def test_a_normal_client_is_served_among_hundreds_of_slow_connections(
    short_server: BackgroundServer, big_image: str
) -> None:
    slow = open_connections(short_server.port, 300, b"GET / HTTP/1.1\r\n")
    stalled = open_connections(
        short_server.port,
        8,
        f"GET /i/{big_image} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() * 20,
    )
    try:
        normal_client_ok(short_server.base_url, big_image, rounds=20)
    finally:
        for sock in slow + stalled:
            sock.close()


def _unread_by_server(port: int) -> int:
    """Bytes waiting in the receive queues of the server's sockets on ``port``."""
    total = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, queues = fields[1], fields[4]
        if int(local.split(":")[1], 16) == port:
            total += int(queues.split(":")[1], 16)
    return total


def test_bodies_in_memory_are_bounded_across_connections(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    """waitress keeps each body in memory up to 8 MiB: 48 connections sending 8 MiB
    and never finishing held 384 MB. Past 128 MiB in all, bodies go to temporary files."""
    proc = ServeProcess(tmp_path / "lib", "--port", "0", env={"IMAGESHELF_API_TOKEN": TOKEN})
    processes.append(proc)
    proc.start()
    port = int(proc.base_url.rsplit(":", 1)[1])
    head = (
        b"POST /v3/images HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 10000000\r\n\r\n"
    )
    chunk = b"\0" * (8 * 1024 * 1024 - 100_000)  # just under where waitress spills
    socks = []
    try:
        for _ in range(48):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(head + chunk)
            socks.append(sock)
        wait_for(lambda: _unread_by_server(port) == 0, "the server reading everything", timeout=60)
        peak = proc.peak_rss_bytes()
        assert peak is not None and peak < 330 * 1024 * 1024, f"{peak / 2**20:.0f} MB"
    finally:
        for sock in socks:
            sock.close()
