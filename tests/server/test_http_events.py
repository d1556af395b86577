"""The contract's "Live changes": ``GET /v3/events`` as long-poll JSON (through the Flask
client and a live waitress server) and as Server-Sent Events (through waitress, where a
stream really holds a worker thread)."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import text

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from imageshelf.server.events_api import EXTENSION_KEY, EventStreams
from tests.conftest import image_bytes
from tests.server.http_helpers import AUTH, TOKEN, Api

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True


def _png(n: int) -> bytes:
    return image_bytes("PNG", (20, 14), color=(n * 70 % 256, 90, 30))


def test_long_poll_lists_every_kind_of_change(api: Api, library: Library) -> None:
    start = api.get("/v3/events").json()
    assert start == {"events": [], "next_since": 0}
    a = api.upload_ok(_png(1), "a.png")["id"]
    b = api.upload_ok(_png(2), "b.png")["id"]
    api.request("PATCH", f"/v3/images/{a}", json_body={"alt_text": "A"})
    api.request("DELETE", f"/v3/images/{b}")
    api.request("POST", f"/v3/trash/{b}/restore")
    api.request("DELETE", f"/v3/images/{b}")
    api.request("DELETE", f"/v3/trash/{b}")
    reply = api.get("/v3/events", query={"since": "0"})
    assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
    body = reply.json()
    kinds = [(e["event"], e["id"]) for e in body["events"]]
    assert kinds == [
        ("image.created", a),
        ("image.created", b),
        ("image.updated", a),
        ("image.deleted", b),
        ("image.restored", b),
        ("image.deleted", b),
        ("image.purged", b),
    ]
    assert body["events"][0]["image"]["alt_text"] == "A"  # the image as it is now
    assert body["events"][0]["image"]["url"].endswith(f"/i/{a}")
    assert body["events"][-1]["image"] is None
    seqs = [e["seq"] for e in body["events"]]
    assert body["next_since"] == seqs[-1]
    resumed = api.get("/v3/events", query={"since": str(seqs[2])}).json()
    assert [e["seq"] for e in resumed["events"]] == seqs[3:]
    assert api.get("/v3/events", query={"since": str(seqs[-1])}).json() == {
        "events": [],
        "next_since": seqs[-1],
    }


def test_long_poll_waits_for_the_next_change(api: Api, library: Library) -> None:
    since = api.get("/v3/events").json()["next_since"]
    started = threading.Event()

    def later() -> None:
        started.wait(10)
        library.add(io.BytesIO(_png(3)), "late.png")

    thread = threading.Thread(target=later)
    thread.start()
    started.set()
    body = api.get("/v3/events", query={"since": str(since), "wait": "30"}).json()
    thread.join(10)
    assert [e["event"] for e in body["events"]] == ["image.created"]


@pytest.mark.parametrize(
    "query", [{"since": "-1"}, {"since": "x"}, {"wait": "31"}, {"wait": "1.5"}]
)
def test_bad_since_or_wait_is_400(api: Api, query: dict[str, str]) -> None:
    reply = api.get("/v3/events", query=query)
    assert (reply.status, reply.error_code) == (400, "invalid_input")


def test_events_need_the_token(api: Api) -> None:
    assert api.get("/v3/events", auth=False).status == 401


def test_a_stale_since_is_told_to_reset(api: Api, library: Library) -> None:
    for n in range(3):
        api.upload_ok(_png(n + 5), f"r{n}.png")
    latest = library.changes.latest()
    with library.engine.begin() as conn:
        conn.execute(text("UPDATE changes SET at = 0"))
    library.changes.prune()
    body = api.get("/v3/events", query={"since": "1"}).json()
    assert body == {"events": [], "next_since": latest, "reset": True}


# --- Server-Sent Events through waitress ------------------------------------------------


class SseClient:
    """A raw HTTP/1.1 SSE reader on a socket: events as they arrive, with a timeout."""

    def __init__(self, base: str, headers: dict[str, str] | None = None, query: str = "") -> None:
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=20)
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock.sendall(
            f"GET /v3/events{query} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {TOKEN}\r\nAccept: text/event-stream\r\n{extra}\r\n".encode()
        )
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        self.head = head.decode("latin-1")
        self.chunked = "transfer-encoding: chunked" in self.head.lower()
        self.text = ""

    def _until(self, mark: bytes) -> bytes:
        while mark not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buffer += data
        part, self.buffer = self.buffer.split(mark, 1)
        return part

    def _more_text(self) -> None:
        if not self.chunked:
            data = self.buffer or self.sock.recv(65536)
            self.buffer = b""
            if not data:
                raise EOFError
            self.text += data.decode()
            return
        size = int(self._until(b"\r\n"), 16)
        if size == 0:
            raise EOFError
        while len(self.buffer) < size + 2:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buffer += data
        self.text += self.buffer[:size].decode()
        self.buffer = self.buffer[size + 2 :]

    def block(self) -> dict[str, str]:
        """The next block (an event or a comment), as field → value ("" for comments)."""
        while "\n\n" not in self.text:
            self._more_text()
        raw, self.text = self.text.split("\n\n", 1)
        fields: dict[str, str] = {}
        for line in raw.split("\n"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        return fields

    def event(self) -> dict[str, str]:
        while True:
            block = self.block()
            if "event" in block:
                return block

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server(library: Library) -> Iterator[BackgroundServer]:
    srv = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    yield srv
    srv.stop()


def _streams(server: BackgroundServer) -> EventStreams:
    streams: EventStreams = server.app.extensions[EXTENSION_KEY]
    return streams


def _wait_for(condition: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_sse_sends_at_once_then_events_and_heartbeats(
    server: BackgroundServer, library: Library
) -> None:
    _streams(server).heartbeat_s = 0.3
    client = SseClient(server.base_url)
    try:
        assert client.status == 200
        assert "content-type: text/event-stream" in client.head.lower()
        first = client.block()  # before any change: the stream is open
        assert "" in first and "retry" in first
        image = library.add(io.BytesIO(_png(1)), "live.png", alt_text="Live")
        event = client.event()
        assert event["event"] == "image.created"
        assert int(event["id"]) == library.changes.latest()
        data = json.loads(event["data"])
        assert data["id"] == image.id and data["image"]["alt_text"] == "Live"
        assert client.block() == {"": "keepalive"}  # nothing happens: a comment
    finally:
        client.close()


def test_sse_resumes_after_a_disconnect_with_exactly_what_was_missed(
    server: BackgroundServer, library: Library
) -> None:
    client = SseClient(server.base_url)
    client.block()
    library.add(io.BytesIO(_png(2)), "one.png")
    seen = client.event()
    client.close()
    missed = [library.add(io.BytesIO(_png(3 + n)), f"m{n}.png").id for n in range(3)]
    library.delete(missed[0])
    again = SseClient(server.base_url, {"Last-Event-ID": seen["id"]}, "?since=0")
    try:
        got = [again.event() for _ in range(4)]
        assert [(e["event"], json.loads(e["data"])["id"]) for e in got] == [
            ("image.created", missed[0]),
            ("image.created", missed[1]),
            ("image.created", missed[2]),
            ("image.deleted", missed[0]),
        ]
        assert [int(e["id"]) for e in got] == list(range(int(seen["id"]) + 1, int(seen["id"]) + 5))
    finally:
        again.close()


def test_sse_resets_when_the_resume_point_was_pruned(
    server: BackgroundServer, library: Library
) -> None:
    for n in range(3):
        library.add(io.BytesIO(_png(n)), f"p{n}.png")
    with library.engine.begin() as conn:
        conn.execute(text("UPDATE changes SET at = 0"))
    library.changes.prune()
    client = SseClient(server.base_url, query="?since=1")
    try:
        reset = client.event()
        assert reset["event"] == "reset" and int(reset["id"]) == library.changes.latest()
        library.add(io.BytesIO(_png(9)), "after.png")
        assert client.event()["event"] == "image.created"
    finally:
        client.close()


def test_streams_are_capped_and_a_closed_one_frees_its_slot(
    server: BackgroundServer, library: Library
) -> None:
    streams = _streams(server)
    streams.heartbeat_s = 0.2  # a closed peer is noticed at the next write
    clients = [SseClient(server.base_url) for _ in range(streams.limit)]
    try:
        for c in clients:
            assert c.status == 200
        over = requests.get(
            f"{server.base_url}/v3/events",
            headers={**AUTH, "Accept": "text/event-stream"},
            timeout=20,
        )
        assert over.status_code == 503 and over.json()["error"]["code"] == "busy"
        assert int(over.headers["Retry-After"]) > 0
        # Other requests still have workers.
        assert requests.get(f"{server.base_url}/v3/images", headers=AUTH, timeout=20).ok
        clients.pop().close()
        _wait_for(lambda: streams.open < streams.limit)
        clients.append(SseClient(server.base_url))
        assert clients[-1].status == 200
    finally:
        for c in clients:
            c.close()


def test_stopping_the_server_ends_open_streams(library: Library) -> None:
    srv = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    client = SseClient(srv.base_url)
    client.block()
    done = threading.Event()
    threading.Thread(target=lambda: (srv.stop(), done.set()), daemon=True).start()
    with pytest.raises((EOFError, OSError)):
        while True:
            client.block()
    assert done.wait(20), "stop() was held up by the stream"
    client.close()


def test_the_stream_limit_is_a_setting(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGESHELF_MAX_STREAMS", "1")
    srv = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    try:
        assert _streams(srv).limit == 1
        first = SseClient(srv.base_url)
        assert first.status == 200
        second = SseClient(srv.base_url)
        assert second.status == 503
        second.close()
        first.close()
    finally:
        srv.stop()


def test_head_of_a_stream_answers_at_once_and_holds_no_slot(server: BackgroundServer) -> None:
    reply = requests.head(
        f"{server.base_url}/v3/events",
        headers={**AUTH, "Accept": "text/event-stream"},
        timeout=20,
    )
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/event-stream")
    assert _streams(server).open == 0
