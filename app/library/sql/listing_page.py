"""A page-number page of a filter: its total and its rows, in one read (``Library.
list_images``). ``listing`` answers it in three steps (resolve the filter, count, read
the page); on PostgreSQL a whole-library search for a term with a space is counted and,
when its matches are few, paged in one statement (``pg_search.count_and_page``)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from ..filters import Filter, Sort
from ..records import ImageRecord
from . import listing, pg_search, pg_token_pages
from .dialect import is_pg


def read(
    conn: Connection, flt: Filter, offset: int, limit: int, sort: Sort
) -> tuple[int, list[ImageRecord]]:
    """The number of images ``flt`` keeps and rows ``offset`` to ``offset + limit`` of
    them in ``sort``."""
    term = listing.indexed_term(flt)
    fused = (
        term is not None
        and not pg_search.in_one_word(term)
        and flt.unscoped
        and not flt.meta
        and flt.ids is None
        and flt.matches_pks is None
        and is_pg(conn)
    )
    if fused:
        assert term is not None
        found, library, rows = pg_search.count_and_page(
            conn, term, listing.RESOLVE_CAP, offset, limit, sort
        )
        if rows is not None:
            return found, rows
        # Common: counted; the page is read as listing reads it (scan, member or sort).
        flt = replace(flt, matches_count=found, library_count=library)
    else:
        # DIALECT (PostgreSQL): meta values and a term within one word, in one statement.
        tokens = pg_token_pages.page(conn, flt, offset, limit, sort)
        if tokens is not None:
            return tokens
        flt = listing.resolve(conn, flt, sort)
    total = listing.count(conn, flt)
    return total, listing.page(conn, flt, offset, limit, sort, total=total)
