"""Quiet requests never wait behind transforms, through a live waitress server with its
default threads and the default gate: while the gate holds all it may (two slots, a full
queue, and requests following an identical one) and more transforms keep arriving —
more than the server has threads — originals, thumbnails, a kept result and the API are
answered, the transforms past the gate's capacity are told ``503 busy`` at once, and
every held one is made once the work may go on.

The test holds the process-wide decode budget (a real API), so a transform that got its
slot waits for pixels until the test lets it go on; it waits for the states it needs on
the service's own conditions, never on time."""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager

import pytest
import requests

from imageshelf.app.library import Library, rules
from imageshelf.app.library.decode_budget import DECODE_BUDGET
from imageshelf.server import BackgroundServer, runner
from tests.conftest import image_bytes
from tests.server.http_helpers import TOKEN

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

WAIT = 60.0


@contextmanager
def _budget_held() -> Iterator[None]:
    with DECODE_BUDGET.hold(DECODE_BUDGET.limit, timeout=WAIT):
        yield


def test_quiet_requests_are_answered_while_transforms_fill_the_gate(
    live_server: BackgroundServer, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Held requests must not give up while a slow machine starts the rest of them.
    monkeypatch.setattr(rules, "TRANSFORM_MAX_WAIT_S", WAIT)
    big = library.add(io.BytesIO(image_bytes("JPEG", (900, 600))), "big.jpg")
    quiet_bytes = image_bytes("JPEG", (300, 200))
    quiet = library.add(io.BytesIO(quiet_bytes), "quiet.jpg")
    base = live_server.base_url
    kept = f"{base}/i/{big.id}.webp?w=64"
    thumbnail = f"{base}/i/{quiet.id}?variant=thumbnail"
    assert requests.get(kept, timeout=WAIT).status_code == 200  # made and kept now
    assert requests.get(thumbnail, timeout=WAIT).status_code == 200
    gate = library.transforms.gate
    capacity = gate.capacity
    # More identical requests than the server has threads, and distinct ones besides.
    identical = [f"{base}/i/{big.id}.webp?w=100"] * (runner.THREADS + 4)
    distinct = [f"{base}/i/{big.id}.webp?w={w}" for w in range(200, 208)]
    with ThreadPoolExecutor(len(identical) + len(distinct)) as pool, _budget_held():
        first = pool.submit(requests.get, identical[0], timeout=WAIT)
        assert gate.wait_until(lambda running, _: running == 1, WAIT)  # the leader
        futures = [first] + [pool.submit(requests.get, u, timeout=WAIT) for u in distinct]
        futures += [pool.submit(requests.get, u, timeout=WAIT) for u in identical[1:]]
        assert gate.wait_until_held(capacity, WAIT)
        refused_count = len(futures) - capacity
        answered: set[Future[requests.Response]] = set()
        pending = set(futures)
        while len(answered) < refused_count:  # the rest are answered at once
            newly, pending = wait(pending, timeout=WAIT, return_when=FIRST_COMPLETED)
            assert newly, "a request past the capacity was not answered"
            answered |= newly
        assert len(pending) == capacity
        assert gate.held == capacity
        # Meanwhile the quiet requests: none of them waits for the transforms.
        original = requests.get(f"{base}/i/{quiet.id}", timeout=WAIT)
        small = requests.get(thumbnail, timeout=WAIT)
        cached = requests.get(kept, timeout=WAIT)
        api = requests.get(
            f"{base}/v3/images/{quiet.id}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=WAIT,
        )
        another = requests.get(f"{base}/i/{big.id}.webp?w=300", timeout=WAIT)
        assert gate.held == capacity  # all of that while the gate stayed full
    replies = [f.result() for f in futures]
    assert [r.status_code for r in (original, small, cached, api)] == [200] * 4
    assert original.content == quiet_bytes
    assert (another.status_code, another.json()["error"]["code"]) == (503, "busy")
    assert another.headers["Retry-After"] == "2"
    refused = [r for r in replies if r.status_code == 503]
    assert len(refused) == refused_count
    assert {r.json()["error"]["code"] for r in refused} == {"busy"}
    assert all(r.headers["Retry-After"] for r in refused)
    assert sum(r.status_code == 200 for r in replies) == capacity  # every held one made
    made_distinct = sum(r.status_code == 200 for r in replies[1 : 1 + len(distinct)])
    # The kept one, the identical requests' one, and each distinct one that was held.
    assert library.transforms.computations == 2 + made_distinct


def test_a_result_not_ready_in_time_is_busy_and_goes_on_into_the_cache(
    live_server: BackgroundServer, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract's "never a wait over 10 s": a request whose result is still being made
    when its answer is due is told busy, and the work goes on, so its retry (after
    Retry-After) gets the result from the cache instead of starting again."""
    monkeypatch.setattr(rules, "TRANSFORM_MAX_WAIT_S", WAIT)  # the work may wait this long
    monkeypatch.setattr(rules, "TRANSFORM_ANSWER_S", 0.0)  # an answer due at once
    record = library.add(io.BytesIO(image_bytes("JPEG", (900, 600))), "slow.jpg")
    url = f"{live_server.base_url}/i/{record.id}.webp?w=150"
    gate = library.transforms.gate
    with _budget_held():  # the work waits for pixels until the test lets it go on
        first = requests.get(url, timeout=WAIT)
        assert gate.running == 1  # still in its slot, waiting for pixels
    assert (first.status_code, first.json()["error"]["code"]) == (503, "busy")
    assert first.headers["Retry-After"] == "2"
    assert library.transforms.wait_until(lambda made, _: made == 1, WAIT)
    assert gate.wait_until(lambda running, _: running == 0, WAIT)
    retry = requests.get(url, timeout=WAIT)
    assert retry.status_code == 200 and retry.headers["Content-Type"] == "image/webp"
    assert library.transforms.computations == 1  # from the cache, not made again
