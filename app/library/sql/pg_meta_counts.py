"""DIALECT (PostgreSQL): each ``meta.KEY=VALUE`` reading's number of images and of
undescribed images, read from ``meta_value_counts`` (migration 0027, kept by trigger in
the writing transaction) instead of counting the value's index entries.

``meta_listing.resolve_meta`` asks, for each reading of each filter's value, whether
images hold it and whether more than ``META_RESOLVE_CAP`` do; on SQLite it counts the
range up to just over the cap (≈ 0.75 ms on PostgreSQL for a common value's 2,001
entries, under load). Here each is a primary-key read, exact. A filter of one value over
the whole library (or its undescribed images) is counted in the same statement: the sum
of its readings' rows (an image has one value per key, so they are disjoint), which
``listing.count`` then answers with, instead of counting every entry of the value's
index (10,000 for a value 10% of 100,000 images hold: ≈ 3 ms)."""

from __future__ import annotations

from ..filters import ALL_FOLDERS, Filter


def reading(where: str, column: str = "images") -> str:
    """The number of images (``column``: or of undescribed ones) holding the reading
    ``where`` (``meta_listing.ranges``'s test of key, kind and value): 0 when no row."""
    return f"COALESCE((SELECT {column} FROM meta_value_counts WHERE {where}), 0)"


def scope(flt: Filter) -> str | None:
    """The column whose sum over ``flt``'s one value's readings is the number of images
    ``flt`` keeps (``images``; ``undescribed``, only the undescribed), or ``None`` when
    the table cannot say (two or more values, a folder, an API key's folders, ids, a
    search)."""
    narrowed = flt.folder is not ALL_FOLDERS or flt.limit is not None or flt.ids is not None
    if len(flt.meta) != 1 or narrowed or flt.search or flt.meta_pks is not None:
        return None
    return "undescribed" if flt.undescribed else "images"
