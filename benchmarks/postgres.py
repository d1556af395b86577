"""Target 4 on PostgreSQL (issue 21, item 5): the 100,000-image query figures of a team
library beside SQLite's, with the same bounds.

The benchmark starts its own PostgreSQL with the tests' fixture code
(``tests/pg_server.py``: a real server as an unprivileged user, on 127.0.0.1) and stops
it at the end. Until PostgreSQL support (``Library.open_team``, ``tests/pg_server.py``)
is part of this copy, the table says so ("not yet"), which is not a failure."""

from __future__ import annotations

import importlib.util

from imageshelf.app.library import Library

from .common import Result, not_yet


def missing_support() -> str | None:
    """Why PostgreSQL cannot be measured in this copy, or ``None`` when it can."""
    if not hasattr(Library, "open_team"):
        return "this copy has no team library yet (Library.open_team)"
    if importlib.util.find_spec("tests.pg_server") is None:
        return "this copy has no tests/pg_server.py to start PostgreSQL with"
    return None


def run(n: int, quick: bool = False) -> list[Result]:
    why = missing_support()
    if why is not None:
        return [not_yet("4 pg", "PostgreSQL: not yet", why)]
    return [not_yet("4 pg", "PostgreSQL: not yet", "the PostgreSQL cases are not written yet")]
