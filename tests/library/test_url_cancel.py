"""``Library.add_from_url`` with the window's Cancel and progress: a fetch waiting on a
silent server stops at once when cancelled (its socket is shut down), and nothing is left;
progress reports bytes against the announced length."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from imageshelf.app.library import Library, rules
from imageshelf.app.library.errors import Cancelled
from imageshelf.app.library.url_fetch import Cancel
from tests.image_upstream import ImageUpstream, running


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[ImageUpstream]:
    monkeypatch.setenv(rules.FETCH_ALLOW_ENV, "127.0.0.1")
    yield from running()


def test_cancel_stops_a_fetch_waiting_on_a_silent_server(
    library: Library, upstream: ImageUpstream
) -> None:
    cancel = Cancel()
    outcome: list[BaseException | object] = []

    def fetch() -> None:
        try:
            outcome.append(library.add_from_url(upstream.url("/stall/kite.png"), cancel=cancel))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=fetch)
    worker.start()
    assert upstream.stalled.wait(10)  # the server sent a little and went silent
    cancel.cancel()
    worker.join(5)  # the time limit is 30 s: only the cancel can end it this soon
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
    assert library.count() == 0
    assert list(library.tmp_dir.iterdir()) == []


def test_cancel_before_the_fetch_adds_nothing(library: Library, upstream: ImageUpstream) -> None:
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled):
        library.add_from_url(upstream.url("/img/kite.png"), cancel=cancel)
    assert library.count() == 0 and upstream.requests == []


def test_progress_counts_the_bytes_against_the_announced_length(
    library: Library, upstream: ImageUpstream
) -> None:
    seen: list[tuple[int, int | None]] = []
    record = library.add_from_url(
        upstream.url("/jpeg/dune.jpg"), progress=lambda got, of: seen.append((got, of))
    )
    assert record.original_filename == "dune.jpg"
    assert seen[-1] == (len(upstream.jpeg), len(upstream.jpeg))
