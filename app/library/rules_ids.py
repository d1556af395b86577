"""The image id format (``img_`` + a ULID with fresh random bits): one place, as
share and download ids are made the same way. Part of ``rules``, which re-exports it."""

from __future__ import annotations

import re
import secrets
import time
from typing import Final

__all__ = [
    "ID_PREFIX",
    "is_image_id",
    "new_image_id",
]

# --- ids ---------------------------------------------------------------------------------

ID_PREFIX: Final = "img_"
_ID_RE: Final = re.compile(r"img_[0-9A-HJKMNP-TV-Z]{26}")


def new_image_id() -> str:
    """A ULID: 48 bits of milliseconds, then 80 fresh random bits every time.

    python-ulid's ``ULID()`` is monotonic: within one millisecond it adds 1 to the last
    random part, so an id made just after a neighbour's (a share link, an /i link) could
    be guessed from it. Ids here stay sortable by time, never by sequence."""
    # python-ulid imports importlib.metadata and email (≈ 0.04 s): here, not at launch.
    from ulid import ULID

    millis = time.time_ns() // 1_000_000
    return ID_PREFIX + str(ULID.from_bytes(millis.to_bytes(6, "big") + secrets.token_bytes(10)))


def is_image_id(value: str) -> bool:
    return bool(_ID_RE.fullmatch(value))
