"""Waiting for the library's events without sleeping: a listener collects them and the
test waits, with a bound, for the one it expects."""

from __future__ import annotations

import threading
from collections.abc import Callable

from imageshelf.app.library import Event, EventKind, Library

TIMEOUT = 10.0


class EventLog:
    """Every event the library announces, in order, for tests to wait on."""

    def __init__(self, library: Library) -> None:
        self.events: list[Event] = []
        self._cond = threading.Condition()
        self.unsubscribe = library.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, match: Callable[[Event], bool], timeout: float = TIMEOUT) -> Event:
        """The first event (past or future) that ``match``es; fails after ``timeout``."""
        with self._cond:
            found: list[Event] = []

            def seen() -> bool:
                found[:] = [e for e in self.events if match(e)]
                return bool(found)

            if not self._cond.wait_for(seen, timeout):
                kinds = [(e.kind.value, e.image_id, e.source) for e in self.events]
                raise AssertionError(f"no matching event within {timeout} s; saw {kinds}")
            return found[0]

    def wait_count(
        self, match: Callable[[Event], bool], count: int, timeout: float = TIMEOUT
    ) -> list[Event]:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: len([e for e in self.events if match(e)]) >= count, timeout
            )
            found = [e for e in self.events if match(e)]
            if not ok:
                raise AssertionError(f"expected {count} events within {timeout} s, got {found}")
            return found

    def matching(self, match: Callable[[Event], bool]) -> list[Event]:
        with self._cond:
            return [e for e in self.events if match(e)]


def from_disk(kind: EventKind, image_id: str | None = None) -> Callable[[Event], bool]:
    def match(e: Event) -> bool:
        return (
            e.source == "disk" and e.kind == kind and (image_id is None or e.image_id == image_id)
        )

    return match


def added_at(relpath: str) -> Callable[[Event], bool]:
    """The disk's ADDED event for the file at ``relpath``."""

    def match(e: Event) -> bool:
        return (
            e.source == "disk"
            and e.kind == EventKind.ADDED
            and e.image is not None
            and e.image.relpath == relpath
        )

    return match
