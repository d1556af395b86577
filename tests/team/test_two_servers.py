"""Two ``imageshelf serve`` processes on one team library (a real PostgreSQL,
tests/pg_server.py, and the team storage), as a team runs them: an upload acknowledged by
one is listed by the other at once and reaches the other's ``/v3/events`` (the figure is
printed: a test never asserts a timing); SIGKILL of one amid uploads, moves, edits and
deletes by clients of both loses nothing either acknowledged, and leaves no row without
its bytes, while the other goes on serving."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import image_bytes
from tests.s3_server import s3_bucket, s3_server
from tests.server.serve_process import ServeProcess
from tests.server.test_kill_recovery import AUTH, TIMEOUT, TOKEN, Client, State, all_listed

__all__ = ["s3_bucket", "s3_server"]


class TeamServe(ServeProcess):
    """``imageshelf serve --database URL --storage URL`` (no ``--library``)."""

    def __init__(self, database: str, storage: str) -> None:
        super().__init__(Path(storage), env={"IMAGESHELF_API_TOKEN": TOKEN})
        self.database, self.storage = database, storage

    def command(self) -> list[str]:
        serve = super().command()[:4]  # python -m imageshelf serve
        team = ["--database", self.database, "--storage", self.storage, "--path-style"]
        return [*serve, *team, "--port", "0"]


@pytest.fixture
def storage_url(s3_bucket: str) -> str:
    """The team library's storage: a bucket on a real S3-compatible server on loopback
    (tests/s3_server.py; the servers find it through the AWS environment)."""
    return f"s3://{s3_bucket}/team"


@pytest.fixture
def two(pg_database: str, storage_url: str, processes: list[ServeProcess]) -> list[TeamServe]:
    started = []
    for _ in range(2):
        proc = TeamServe(pg_database, storage_url)
        processes.append(proc)
        started.append(proc)
        proc.start()
    return started


@pytest.fixture
def processes() -> Iterator[list[ServeProcess]]:
    started: list[ServeProcess] = []
    yield started
    for proc in started:
        if proc.proc is not None and proc.proc.poll() is None:
            proc.kill()


def _upload(base: str, name: str, color: tuple[int, int, int]) -> dict:
    reply = requests.post(
        f"{base}/v3/images",
        headers=AUTH,
        files={"file": (name, image_bytes("PNG", color=color))},
        data={"alt_text": f"{name} through {base}"},
        timeout=TIMEOUT,
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_an_upload_through_one_is_listed_and_announced_by_the_other(
    two: list[TeamServe],
) -> None:
    one, other = two[0].base_url, two[1].base_url
    assert one != other
    latest = requests.get(f"{other}/v3/events", headers=AUTH, timeout=TIMEOUT).json()
    since = latest["next_since"]
    heard: list[tuple[float, dict]] = []

    def listen() -> None:
        reply = requests.get(
            f"{other}/v3/events",
            headers=AUTH,
            params={"since": since, "wait": 10},
            timeout=TIMEOUT,
        )
        heard.append((time.monotonic(), reply.json()))

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(0.2)  # let the long-poll start waiting (an event before it is also fine)
    created = _upload(one, "via-one.png", (10, 120, 200))
    acknowledged = time.monotonic()
    # Listed by the other at once: both read the one database.
    listed = requests.get(f"{other}/v3/images", headers=AUTH, timeout=TIMEOUT).json()
    assert created["id"] in [r["id"] for r in listed["result"]]
    served = requests.get(f"{other}/i/{created['id']}", timeout=TIMEOUT)
    assert served.status_code == 200
    assert served.content == image_bytes("PNG", color=(10, 120, 200))
    listener.join(TIMEOUT)
    assert heard, "the other server's /v3/events never answered"
    arrived, body = heard[0]
    events = [e for e in body["events"] if e["id"] == created["id"]]
    assert events and events[0]["event"] == "image.created"
    assert events[0]["image"]["alt_text"] == created["alt_text"]
    latency_ms = max(0.0, arrived - acknowledged) * 1000
    print(f"\nthe event reached the other server {latency_ms:.0f} ms after the 201")
    # And back the other way: a change through the other reaches the first.
    patched = requests.patch(
        f"{other}/v3/images/{created['id']}",
        headers=AUTH,
        json={"alt_text": "changed through the other"},
        timeout=TIMEOUT,
    )
    assert patched.status_code == 200
    again = requests.get(f"{one}/v3/images/{created['id']}", headers=AUTH, timeout=TIMEOUT)
    assert again.json()["alt_text"] == "changed through the other"


def test_sigkill_of_one_server_amid_writes_through_both_loses_nothing(
    two: list[TeamServe], storage_url: str
) -> None:
    victim, survivor = two
    stop = threading.Event()
    clients = [Client(n, (victim if n < 2 else survivor).base_url, stop) for n in range(4)]
    for c in clients:
        c.start()
    try:
        waiting = threading.Event()
        for _ in range(1800):  # bounded: at most 180 s
            kinds = {k: sum(c.kinds[k] for c in clients[:2]) for k in clients[0].kinds}
            if kinds["upload"] >= 20 and kinds["move"] >= 8 and kinds["delete"] >= 3:
                break
            if not all(c.is_alive() for c in clients):
                break
            waiting.wait(0.1)
        assert all(c.is_alive() for c in clients), victim.text() + survivor.text()
        victim.kill()  # SIGKILL while its clients have requests going
        # The survivor's clients go on a while after: it does not need the other.
        after = sum(c.acknowledged for c in clients[2:])
        for _ in range(600):
            if sum(c.acknowledged for c in clients[2:]) >= after + 10:
                break
            waiting.wait(0.1)
    finally:
        stop.set()
        for c in clients:
            c.join(TIMEOUT)
    assert sum(c.acknowledged for c in clients[2:]) >= after + 10, survivor.text()
    kinds = {k: sum(c.kinds[k] for c in clients) for k in clients[0].kinds}
    assert kinds["move"] >= 8 and kinds["delete"] >= 3, kinds
    print(f"\nacknowledged before and after the kill, through both servers: {kinds}")

    base = survivor.base_url  # still serving; and a fresh server sees the same
    fresh = TeamServe(victim.database, storage_url)
    fresh.start()
    try:
        for server in (base, fresh.base_url):
            _everything_acknowledged_is_there(clients, server)
        # No row without its bytes: every listed image is served, hash-checked.
        for record in all_listed(base):
            served = requests.get(record["url"], timeout=TIMEOUT)
            assert served.status_code == 200, record
            etag = f'"{hashlib.sha256(served.content).hexdigest()}"'
            assert served.headers["ETag"] == etag and len(served.content) == record["size"]
    finally:
        assert fresh.stop() == 0


def _everything_acknowledged_is_there(clients: list[Client], base: str) -> None:
    for client in clients:
        for image_id, known in client.images.items():
            allowed = [known.acked, *known.maybe]
            reply = requests.get(f"{base}/v3/images/{image_id}", headers=AUTH, timeout=TIMEOUT)
            if reply.status_code == 410:
                assert any(s.deleted for s in allowed), (image_id, allowed)
                continue
            assert reply.status_code == 200, (image_id, reply.text)
            body = reply.json()
            got = State(body["folder"], body["alt_text"])
            assert got in [State(s.folder, s.alt_text) for s in allowed if not s.deleted], (
                image_id,
                got,
                allowed,
            )
            served = requests.get(f"{base}/i/{image_id}", timeout=TIMEOUT)
            assert served.status_code == 200 and served.content == known.content
