"""A listing walked page by page with ``after`` cursors, for the tests that check one."""

from __future__ import annotations

from typing import Any

from imageshelf.app.library import Library


def walk_by_cursor(library: Library, limit: int, **filters: Any) -> tuple[list[str], set[int], Any]:
    """Every page of ``filters`` from the first: the ids in order, the totals the pages
    said, and the last page."""
    walked: list[str] = []
    totals: set[int] = set()
    after = None
    while True:
        got = library.list_by_cursor(limit=limit, after=after, **filters)
        totals.add(got.total)
        walked += [r.id for r in got.items]
        if not got.has_next_page:
            return walked, totals, got
        after = got.end_cursor
