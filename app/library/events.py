"""Change announcements: the core tells subscribers what changed after it is committed,
so the GUI and anyone else stay current without polling."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from .records import ImageRecord

log = logging.getLogger(__name__)


class EventKind(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    DELETED = "deleted"  # gone from the library: moved to the trash, or deleted outside
    RESTORED = "restored"  # back from the trash (``image`` is the restored image)
    PURGED = "purged"  # removed from the trash for good (no ``image``, no ``previous``)


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    image_id: str | None = None
    image: ImageRecord | None = None  # the image after the change; None when deleted
    previous: ImageRecord | None = None  # the image before the change, where there was one
    source: str = "app"  # "app" for calls, "disk" for changes found on disk


Listener = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Adds ``listener``; returns a function that removes it again."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: Event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # one broken listener must not break a write or the others
                log.exception("event listener failed for %s", event.kind)
