"""DIALECT (PostgreSQL): a deep page of the whole library by page number, read from a
range of the sort's index rather than by an OFFSET walk from either end (migration 0022).

PostgreSQL's executor walks an index at ≈ 75 ns an entry, so the middle page of 100,000
images (50,000 entries skipped) cost ≈ 4 ms however narrow the index. ``order_marks``
cuts each sort's lead key into ranges of about ``SPACING`` images and keeps each range's
number of images exact by trigger (0022): the position where a range starts is the sum
of the numbers before it, so a page at position ``p`` walks at most one range's entries,
from the first key of the range holding ``p``. One statement (one snapshot): the range
found and its walk see the same images.

SQLite keeps its OFFSET walk (≈ 25 ns an entry there: a middle page ≈ 1.4 ms)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection

from ..exif_facts import TAKEN_SORT_SQL
from ..filters import Filter, Sort
from ..records import ImageRecord
from .dialect import run
from .orders import ORDER
from .rows import RECORD_COLUMNS, record

# About this many images per range (0022 cuts them so; the housekeeping re-cuts them when
# one has grown to REBUILD_AT times it). A page walks at most one range.
SPACING: Final = 1000
REBUILD_AT: Final = 4


@dataclass(frozen=True, slots=True)
class _Marked:
    mark: str  # order_marks.sort
    lead: str  # the lead key's SQL, as the sort's index has it
    column: str  # the order_marks column holding it: lo (a number) or lo_name (text)
    ascending: str  # the sort's order from its lowest key up
    descending: bool  # whether the sort lists its highest key first


_MARKED: Final = {
    Sort.NEWEST: _Marked("created", "created_at", "lo", ORDER[Sort.OLDEST], True),
    Sort.OLDEST: _Marked("created", "created_at", "lo", ORDER[Sort.OLDEST], False),
    Sort.NAME: _Marked("name", "filename COLLATE NOCASE", "lo_name", ORDER[Sort.NAME], False),
    Sort.TAKEN: _Marked(
        "taken", TAKEN_SORT_SQL, "lo", f"{TAKEN_SORT_SQL} ASC, created_at ASC, id ASC", True
    ),
}


def applies(flt: Filter, sort: Sort, offset: int, limit: int, total: int) -> bool:
    """Whether the page is read here: the whole library, unfiltered, in a marked sort,
    farther than one range from both ends (nearer one, the walk from that end is as
    short)."""
    unfiltered = flt.unscoped and flt.ids is None and not flt.meta and flt.search is None
    far = min(offset, total - offset - limit) > SPACING
    return unfiltered and far and sort in _MARKED


def page(conn: Connection, sort: Sort, offset: int, limit: int, total: int) -> list[ImageRecord]:
    """Rows ``offset`` to ``offset + limit`` of the whole library in ``sort``, or fewer
    when images were removed since ``total`` was counted (``listing.page`` then walks).

    The position is the one ``listing.page``'s walk reads, so a page is the same even
    when ``total`` (counted by another statement) is no longer the number of images: in
    the first half counted from the sort's start (in this statement's snapshot, the
    ranges' own sum), past it from the far end by ``total`` (as the walk turned round)."""
    marked = _MARKED[sort]
    end = min(offset + limit, total)
    size = end - offset
    # The page's first position from the lowest key: sign * (the ranges' sum) + base.
    from_start = offset <= total // 2
    if from_start == marked.descending:
        sign, base = 1, -offset - size if marked.descending else offset - total
    else:
        sign, base = 0, total - end if marked.descending else offset
    sql = f"""
WITH ranges AS (
  SELECT lo, lo_name, n, sum(n) OVER (ORDER BY lo, lo_name) - n AS start,
    :sign * sum(n) OVER () + :base AS at
  FROM order_marks WHERE sort = :mark),
marked AS (
  SELECT {marked.column} AS lo, start, at FROM ranges
  WHERE start + n > at AND at >= 0 ORDER BY lo, lo_name LIMIT 1)
SELECT {RECORD_COLUMNS} FROM images WHERE pk IN (
  SELECT pk FROM images WHERE {marked.lead} >= (SELECT lo FROM marked)
  ORDER BY {marked.ascending} LIMIT :limit OFFSET (SELECT at - start FROM marked)
) ORDER BY {ORDER[sort]}"""
    params = {"mark": marked.mark, "sign": sign, "base": base, "limit": size}
    return [record(r) for r in run(conn, sql, params)]


def unbalanced(conn: Connection) -> bool:
    """Whether uploads (or removals) have left the ranges far from ``SPACING``: one range
    ``REBUILD_AT`` times larger, or ``REBUILD_AT`` times as many ranges as needed."""
    most, ranges, images = tuple(
        run(
            conn,
            "SELECT max(n), count(*), max(per) FROM (SELECT n, "
            "sum(n) OVER (PARTITION BY sort) AS per FROM order_marks) AS m",
        ).one()
    )
    if not ranges:
        return True
    marks = len({m.mark for m in _MARKED.values()})  # newest and oldest share one
    needed = max(1, (images or 0) // SPACING) * marks
    return bool(most > REBUILD_AT * SPACING or ranges > REBUILD_AT * (needed + marks))


def rebalance(conn: Connection) -> bool:
    """Re-cuts the ranges when ``unbalanced`` (in a write transaction: the counting
    triggers of other writers wait on the write lock meanwhile). Returns whether it did."""
    if not unbalanced(conn):
        return False
    run(conn, "SELECT order_marks_rebuild(:spacing)", {"spacing": SPACING})
    return True
