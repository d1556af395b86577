"""Each sort's ORDER BY, read alike on ``images`` and on ``image_metadata`` (which carries
the columns every key is made of: migrations 0014 and 0018), forwards and backwards
(backwards: a deep page read from the far end, then turned round). One place, so a
listing from either table is in exactly the same order (``listing``, ``meta_listing``)."""

from __future__ import annotations

from typing import Final

from ..exif_facts import TAKEN_SORT_SQL
from ..filters import Sort

ORDER: Final = {
    Sort.NEWEST: "created_at DESC, id DESC",
    Sort.OLDEST: "created_at ASC, id ASC",
    Sort.NAME: "filename COLLATE NOCASE ASC, id ASC",
    # Undated images have the lowest keys (exif_facts.TAKEN_SORT_SQL): last, newest first.
    Sort.TAKEN: f"{TAKEN_SORT_SQL} DESC, created_at DESC, id DESC",
}
REVERSED: Final = {
    Sort.NEWEST: ORDER[Sort.OLDEST],
    Sort.OLDEST: ORDER[Sort.NEWEST],
    Sort.NAME: "filename COLLATE NOCASE DESC, id DESC",
    Sort.TAKEN: f"{TAKEN_SORT_SQL} ASC, created_at ASC, id ASC",
}
