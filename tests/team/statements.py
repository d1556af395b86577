"""The statements a test's own thread sends through an engine, for tests that count them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements_on_this_thread(engine: Engine) -> Iterator[list[str]]:
    """The statements sent while the block runs, by this thread only (not the library's
    own housekeeping threads)."""
    statements: list[str] = []
    me = threading.get_ident()

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if threading.get_ident() == me:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)
