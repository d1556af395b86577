"""A new image's row is committed on SQLite's own connection (``Core.write_rows``, past
SQLAlchemy's layers): a database that refuses the write is still a ``StorageError`` in
words, the transaction is rolled back, nothing the upload made stays (no file under its
name, nothing in ``tmp/``), alone or in a shared commit, and the next upload after the
database accepts writes again gets the name the refused one would have had."""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from imageshelf.app.library import Library, StorageError, group_commit
from tests.library.helpers import tmp_leftovers
from tests.waiting import wait_for


@pytest.fixture
def refusing(library: Library) -> Iterator[Callable[[bool], None]]:
    """``refusing(True)``: every connection the library checks out from now on refuses
    writes (SQLite's ``query_only``), as a read-only database file does; ``False``: lifts it."""
    state = {"on": False}

    def checkout(dbapi_conn: Any, *_: Any) -> None:
        dbapi_conn.execute(f"PRAGMA query_only = {int(state['on'])}")

    engine = library.core.engine
    event.listen(engine, "checkout", checkout)
    yield lambda on: state.update(on=on)
    event.remove(engine, "checkout", checkout)


def _names(library: Library) -> list[str]:
    return sorted(p.name for p in library.root.iterdir() if p.is_file())


def test_a_refused_row_leaves_nothing_and_the_name_is_given_again(
    library: Library, make_image: Callable[..., bytes], refusing: Callable[[bool], None]
) -> None:
    first = library.add(io.BytesIO(make_image("JPEG", (40, 30))), "kite.jpg")
    assert first.filename == "kite.jpg"
    refusing(True)
    with pytest.raises(StorageError, match="read-only"):
        library.add(io.BytesIO(make_image("JPEG", (41, 30))), "kite.jpg")
    assert library.count() == 1
    assert _names(library) == ["kite.jpg"]
    assert tmp_leftovers(library) == []
    refusing(False)
    again = library.add(io.BytesIO(make_image("JPEG", (42, 30))), "kite.jpg")
    assert again.filename == "kite-2.jpg"
    assert library.get(again.id) == again


def test_a_refused_shared_commit_leaves_none_of_its_uploads(
    library: Library, make_image: Callable[..., bytes], refusing: Callable[[bool], None]
) -> None:
    prepared = []
    for i in range(3):
        incoming = library.receive()
        incoming.write(make_image("JPEG", (40 + i, 30)))
        prepared.append(library.prepare_file(*incoming.finish(), "kite.jpg"))
    queue = group_commit.queue_of(library.core)
    outcomes: list[object] = [None] * 3

    def commit(i: int) -> None:
        try:
            outcomes[i] = library.commit(prepared[i])
        except Exception as exc:  # the outcome asserted below
            outcomes[i] = exc

    refusing(True)
    threads = [threading.Thread(target=commit, args=(i,)) for i in range(3)]
    with library.settled():  # the write lock: all three queue for one commit
        for t in threads:
            t.start()
        wait_for(lambda: queue.waiting() == 3, "every upload queued")
    for t in threads:
        t.join(60)
    assert all(isinstance(o, StorageError) for o in outcomes), outcomes
    assert library.count() == 0
    assert _names(library) == []
    assert tmp_leftovers(library) == []


def test_each_commit_gets_the_connection_the_one_before_used(
    library: Library, make_image: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite empties a connection's page cache when another connection wrote since its
    last transaction: the pool gives back the connection returned last, so commits one
    after another (the uploads') keep using the one whose cache is still good, even when
    reads in between made the pool hold more connections."""
    from imageshelf.app.library import core as core_module

    used: list[object] = []
    real = core_module.driver_write

    @contextlib.contextmanager
    def recording(engine: Any) -> Iterator[Any]:
        with real(engine) as conn:
            used.append(conn)
            yield conn

    monkeypatch.setattr(core_module, "driver_write", recording)
    library.add(io.BytesIO(make_image("JPEG", (40, 30))), "a.jpg")
    # Two reads at once: the pool now holds two connections, the writer's returned last.
    with library.core.read() as first, library.core.read() as second:
        assert first.connection.driver_connection is not second.connection.driver_connection
    library.add(io.BytesIO(make_image("JPEG", (41, 30))), "b.jpg")
    library.add(io.BytesIO(make_image("JPEG", (42, 30))), "c.jpg")
    assert len(used) == 3
    assert used[1] is used[0] and used[2] is used[0]
