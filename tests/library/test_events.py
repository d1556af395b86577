"""Subscribers hear of every committed change, after the commit, and a broken listener
breaks nothing."""

from __future__ import annotations

import logging

import pytest

from imageshelf.app.library import Event, EventKind, Library, LibraryError
from tests.conftest import image_bytes

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

JPEG = image_bytes("JPEG")


@pytest.fixture
def heard(library: Library) -> list[tuple[Event, object]]:
    """Every event, paired with what ``get`` answered from inside the callback."""
    log: list[tuple[Event, object]] = []

    def listener(event: Event) -> None:
        try:
            seen: object = library.get(event.image_id)
        except LibraryError as exc:
            seen = exc.code
        log.append((event, seen))

    library.subscribe(listener)
    return log


def test_add_update_delete_are_announced_after_commit(library: Library, add, heard) -> None:
    rec = add(JPEG, "a.jpg")
    moved = library.update(rec.id, alt_text="described", folder="f")
    library.delete(rec.id)
    kinds = [e.kind for e, _ in heard]
    assert kinds == [EventKind.ADDED, EventKind.UPDATED, EventKind.DELETED]
    added, updated, deleted = heard
    assert added == (Event(EventKind.ADDED, rec.id, rec), rec)  # the row is visible inside
    assert updated[0].image == moved == updated[1]
    assert updated[0].previous == rec
    assert deleted[0].image is None and deleted[0].previous == moved
    assert deleted[1] == "gone"  # the tombstone is committed before the event


def test_nothing_is_announced_for_refusals_or_no_op_updates(library, add, heard) -> None:
    with pytest.raises(LibraryError):
        add(b"not an image")
    rec = add(JPEG, alt_text="same")
    library.update(rec.id, alt_text="same")
    assert [e.kind for e, _ in heard] == [EventKind.ADDED]


def test_unsubscribe_stops_the_events(library: Library, add) -> None:
    got: list[Event] = []
    unsubscribe = library.subscribe(got.append)
    add(JPEG)
    unsubscribe()
    unsubscribe()  # twice is harmless
    add(JPEG)
    assert len(got) == 1


def test_a_raising_listener_breaks_neither_the_write_nor_other_listeners(
    library: Library, add, caplog
) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    got: list[Event] = []
    library.subscribe(broken)
    library.subscribe(got.append)
    with caplog.at_level(logging.ERROR):
        rec = add(JPEG)
        library.update(rec.id, alt_text="x")
    assert library.get(rec.id).alt_text == "x"
    assert [e.kind for e in got] == [EventKind.ADDED, EventKind.UPDATED]
    assert "listener bug" in caplog.text
