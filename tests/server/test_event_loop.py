"""The server's socket loop (server/event_loop.py) keeps its epoll registrations and looks
again only at the connections that may want something new. Each test here is a change
that comes from somewhere other than the connection's own socket event and that the
loop must not miss: waitress's maintenance marking an idle connection to be closed, a
worker that could not send all of an answer, a socket number closed and given to a new
connection, a request held back until its client reads. All on a live server."""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Iterator

import pytest
from PIL import Image

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from imageshelf.server.connections import ConnectionLimits
from imageshelf.server.event_loop import WatchedMap
from tests.server.http_helpers import TOKEN
from tests.waiting import wait_for


@pytest.fixture
def server(library: Library) -> Iterator[BackgroundServer]:
    limits = ConnectionLimits(idle_seconds=1.0, output_stall_seconds=30.0)
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN, limits=limits)
    server.start()
    yield server
    server.stop(timeout=5)


@pytest.fixture
def big_image(library: Library) -> tuple[str, int]:
    """An image of 4.3 MB: two answers overflow the sockets' buffers."""
    noise = Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    return library.add(io.BytesIO(out.getvalue()), "noise.png").id, len(out.getvalue())


def read_answer(stream: io.BufferedReader) -> tuple[int, bytes]:
    """One HTTP/1.1 answer with a Content-Length from a stream of pipelined answers."""
    status = int(stream.readline().split()[1])
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, stream.read(length)


def test_an_idle_connection_is_closed_by_maintenance(server: BackgroundServer) -> None:
    # waitress's maintenance marks it (will_close) on the loop thread, outside any of
    # its socket's events; the loop must look at it again to close it.
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    try:
        sock.settimeout(15)
        assert sock.recv(1) == b"", "the idle connection was not closed"
    finally:
        sock.close()


def test_pipelined_answers_larger_than_the_buffers_all_arrive(
    server: BackgroundServer, big_image: tuple[str, int]
) -> None:
    # The worker sends what the socket takes and leaves the rest to the loop (it pulls
    # the trigger for its connection); the next requests wait until the client reads.
    image_id, size = big_image
    count = 12
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    try:
        request = f"GET /i/{image_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        sock.sendall(request * count)
        stream = sock.makefile("rb")
        answers = [read_answer(stream) for _ in range(count)]
    finally:
        sock.close()
    assert [status for status, _ in answers] == [200] * count
    assert {len(body) for _, body in answers} == {size}


def test_socket_numbers_used_again_are_served(server: BackgroundServer) -> None:
    # Each connection is closed (by the client, or by the server after its answer) and
    # the next one usually gets the same socket number on the server's side.
    request = b"GET /v3/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for n in range(120):
        close = b"Connection: close\r\n" if n % 2 else b""
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
            sock.sendall(request + close + b"\r\n")
            status, _ = read_answer(sock.makefile("rb"))
            assert status == 200, n


def test_the_map_records_what_changes() -> None:
    socket_map = WatchedMap()
    socket_map.everything = False
    socket_map[7] = "a"
    socket_map[8] = "b"
    del socket_map[7]
    socket_map.touch(8)
    socket_map.touch(None)  # a connection already closed
    assert list(socket_map.touched) == [7, 8, 7, 8]
    assert not socket_map.everything
    socket_map.clear()
    assert socket_map.everything


def test_a_socket_closed_behind_its_channel_closes_the_channel(
    live_server: BackgroundServer,
) -> None:
    # epoll refuses a closed descriptor where poll() reported POLLNVAL: the channel is
    # closed as waitress's own loop would, and the loop goes on serving (an error there
    # would end the loop and every connection with it).
    server = live_server
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    try:
        channels = server._servers[0].active_channels
        wait_for(lambda: len(channels) == 1, "the connection accepted")
        [(fd, channel)] = list(channels.items())

        def close_behind() -> None:  # on the loop thread, as everything that closes
            channel.socket.close()
            channel.will_close = True  # as maintenance marks one: its wishes change
            server._map.touch(fd)

        server._servers[0].trigger.pull_trigger(close_behind)
        wait_for(lambda: channel not in channels.values(), "the channel closed")
    finally:
        sock.close()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as fresh:
        fresh.sendall(b"GET /v3/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_answer(fresh.makefile("rb"))[0] == 200
