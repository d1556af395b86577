"""Changing an image: alt text, long description, folder (a move of its file). The
caller (``Library.update``) has the words; this is the order: check, move the file
(``file_steps.move``), save the text (``write_back.save_text``), announce."""

from __future__ import annotations

from enum import Enum
from typing import Final

from . import file_steps, rules, write_back
from .core import Core
from .events import Event, EventKind
from .records import ImageRecord


class _Unset(Enum):
    """A keyword not given (``None`` is a value: no alt text, the root folder)."""

    UNSET = "unset"


UNSET: Final = _Unset.UNSET


def update(
    core: Core,
    image_id: str,
    *,
    alt_text: object = UNSET,
    folder: object = UNSET,
    long_description: object = UNSET,
) -> tuple[ImageRecord, write_back.FileWrite | None]:
    new_alt = UNSET if alt_text is UNSET else rules.normalize_alt_text(alt_text)
    new_long = (
        UNSET if long_description is UNSET else rules.normalize_long_description(long_description)
    )
    new_folder = UNSET if folder is UNSET else rules.normalize_folder(folder)
    outcome: write_back.FileWrite | None = None
    with core.write_lock:
        with core.read() as conn:
            before = core.require(conn, image_id)
        after: ImageRecord | None = before
        if new_folder is not UNSET and new_folder != before.folder:
            after = file_steps.move(core, before, new_folder)
        assert after is not None
        alt = after.alt_text if new_alt is UNSET else new_alt
        long = after.long_description if new_long is UNSET else new_long
        if (alt, long) != (after.alt_text, after.long_description):
            after, outcome = write_back.save_text(core, after, alt, long)
    assert after is not None
    if after != before:
        core.events.emit(Event(EventKind.UPDATED, image_id, after, before))
    return after, outcome
