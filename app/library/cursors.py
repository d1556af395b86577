"""Cursor paging (contract Part 2, "Listing: cursors"): a page of ``limit`` images after
or before a cursor, with ``page_info`` saying whether pages exist either way.

A cursor is opaque to clients: URL-safe base64 of a small JSON list — a version, the sort,
a digest of the filter and sort it was made for, and the position (``sql/keyset.py``:
the sort key's values plus the id) of the row it points at. A cursor for other filters or
another sort, or anything that does not decode to exactly that shape, is
``InvalidCursor``. The position is only ever compared with rows, so a hand-edited one
moves the page and reveals nothing the filter would not."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Final

from . import rules
from .core import Core
from .errors import ConflictingPagination, InvalidCursor
from .filters import Filter, Sort
from .records import ImageRecord
from .sql import keyset, listing, pg_token_pages

_VERSION: Final = 1
# A position holds a filename (≤ 255 characters): anything far longer is not a cursor.
MAX_CURSOR_CHARS: Final = 4096


@dataclass(frozen=True, slots=True)
class CursorPage:
    items: list[ImageRecord]
    total: int
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def _digest(flt: Filter, sort: Sort) -> str:
    text = f"{flt.fingerprint()}\x1f{sort.value}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def encode(flt: Filter, sort: Sort, rec: ImageRecord) -> str:
    payload = [_VERSION, sort.value, _digest(flt, sort), *keyset.position(sort, rec)]
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: object, flt: Filter, sort: Sort) -> keyset.Position:
    """The position ``cursor`` points at; ``InvalidCursor`` unless it is one this
    filter and sort made."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("The cursor is not one this server made; start from the first page.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (ValueError, binascii.Error, RecursionError):
        raise InvalidCursor(
            "The cursor is not one this server made; start from the first page."
        ) from None
    keys = keyset.KEYS[sort]
    if (
        not isinstance(payload, list)
        or len(payload) != 3 + len(keys)
        or payload[0] != _VERSION
        or not isinstance(payload[1], str)
        or not isinstance(payload[2], str)
    ):
        raise InvalidCursor("The cursor is not one this server made; start from the first page.")
    if payload[1] != sort.value or payload[2] != _digest(flt, sort):
        raise InvalidCursor(
            "The cursor was made for other filters or another sort: send the same folder, "
            "recursive, search, undescribed, ids, meta.* and sort as the page it came from."
        )
    values = tuple(payload[3:])
    for key, value in zip(keys, values, strict=True):
        expected = int if key.attr.endswith("_us") else str
        if type(value) is not expected or (
            key.attr == "id" and not (isinstance(value, str) and rules.is_image_id(value))
        ):
            raise InvalidCursor(
                "The cursor is not one this server made; start from the first page."
            )
    return values


def page(
    core: Core,
    flt: Filter,
    sort: Sort,
    limit: int,
    *,
    after: str | None = None,
    before: str | None = None,
) -> CursorPage:
    rules.check_limit(limit)
    if after is not None and before is not None:
        raise ConflictingPagination("Send after or before, not both.")
    backwards = before is not None
    cursor = before if backwards else after
    at = decode(cursor, flt, sort) if cursor is not None else None
    with core.read() as conn:
        # DIALECT (PostgreSQL): meta values and a term within one word, in one statement.
        fused = pg_token_pages.cursor_page(conn, flt, sort, at, limit + 1, backwards=backwards)
        if fused is not None:
            total, found, behind = fused
        else:
            flt = listing.resolve(conn, flt)
            total = listing.count(conn, flt)
            found, behind = keyset.rows_and_behind(
                conn, flt, sort, at, limit + 1, backwards=backwards, total=total
            )
        more = len(found) > limit
        if at is not None and behind is None:  # not told by the same statement
            behind = keyset.any_from(conn, flt, sort, at, backwards=not backwards, total=total)
        if backwards:
            items = found[1:] if more else found
            has_previous = more
            has_next = bool(behind)
        else:
            items = found[:limit]
            has_next = more
            has_previous = bool(behind)
    return CursorPage(
        items=items,
        total=total,
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=encode(flt, sort, items[0]) if items else None,
        end_cursor=encode(flt, sort, items[-1]) if items else None,
    )
