"""Waiting on a condition another process (or thread) makes true, where there is no
signal to wait on: polled every 50 ms, failing with what was awaited after a timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str, timeout: float = 15.0) -> T:
    """Polls ``condition`` until it returns something truthy (and returns that); fails
    with ``what``. A file half-there or a database busy is looked at again."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    pause = threading.Event()
    while True:
        try:
            value = condition()
            if value:
                return value
        except (OSError, ValueError, KeyError, sqlite3.Error) as exc:
            last_error = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last error: {last_error})")
        pause.wait(0.05)
