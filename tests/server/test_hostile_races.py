"""``/i`` while the image changes under it, through the live server: a live image answers
200 throughout moves and thumbnail rebuilds (the row and the file are read consistently,
not the old row with the file already moved), a deleted one 410 — never a 404."""

from __future__ import annotations

import io
import shutil
import threading
from collections import Counter
from collections.abc import Callable

import pytest
import requests

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.waiting import wait_for

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

ROUNDS = 150


def hammer(url: str, stop: threading.Event, statuses: Counter[int]) -> threading.Thread:
    """GETs ``url`` on a kept-alive connection until ``stop``; counts the statuses."""

    def run() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                statuses[session.get(url, timeout=30).status_code] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def while_hammered(
    urls: list[str], work: Callable[[], None], statuses: Counter[int] | None = None
) -> Counter[int]:
    """The statuses of GETs of ``urls`` made while ``work`` runs (counted into
    ``statuses`` as they come, when given)."""
    statuses = Counter() if statuses is None else statuses
    stop = threading.Event()
    threads = [hammer(url, stop, statuses) for url in urls]
    try:
        work()
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    return statuses


def test_a_live_image_answers_200_throughout_moves(
    live_server: BackgroundServer, library: Library
) -> None:
    image = library.add(io.BytesIO(image_bytes("PNG", (200, 150))), "moving.png")
    base = f"{live_server.base_url}/i/{image.id}"

    statuses: Counter[int] = Counter()

    def move_back_and_forth() -> None:
        for n in range(ROUNDS):
            # Each move only once a request has been answered since the last one, so the
            # hammering overlaps every move however fast either side is (a team library's
            # reads from its object store are slower than a folder's).
            answered = statuses.total()
            wait_for(lambda a=answered: statuses.total() > a, "a request between two moves")
            library.update(image.id, folder=("a", "b/c", None)[n % 3])

    while_hammered([base, base + "?variant=thumbnail", base], move_back_and_forth, statuses)
    assert set(statuses) == {200}, statuses
    assert statuses[200] > ROUNDS  # each move waited for an answer


@pytest.mark.folder_only  # the cache is a folder a person may delete; a store's is not
def test_a_live_thumbnail_answers_200_while_the_cache_is_cleared(
    live_server: BackgroundServer, library: Library
) -> None:
    image = library.add(io.BytesIO(image_bytes("JPEG", (900, 700))), "thumb.jpg")
    url = f"{live_server.base_url}/i/{image.id}?variant=thumbnail"

    def clear_cache() -> None:
        for _ in range(ROUNDS):
            # Deleted as a person may (the cache is documented as safe to delete).
            shutil.rmtree(library.thumbnails.directory, ignore_errors=True)

    statuses = while_hammered([url, url], clear_cache)
    assert set(statuses) == {200}, statuses


def test_a_deleted_image_answers_410_never_404(
    live_server: BackgroundServer, library: Library
) -> None:
    images = [
        library.add(io.BytesIO(image_bytes("PNG", (64 + n, 48))), f"d{n}.png", folder="x")
        for n in range(40)
    ]
    seen: Counter[int] = Counter()
    for image in images:
        base = f"{live_server.base_url}/i/{image.id}"
        seen += while_hammered(
            [base, base + "?variant=thumbnail"], lambda i=image: library.delete(i.id)
        )
        assert requests.get(base, timeout=30).status_code == 410
        assert requests.get(base + "?variant=thumbnail", timeout=30).status_code == 410
    assert set(seen) <= {200, 410}, seen
