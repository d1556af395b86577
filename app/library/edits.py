"""Changing an image: alt text, long description, custom metadata, folder (a move of its
file). The caller (``Library.update``) has the words; this is the order: check, move the
file (``file_steps.move``), save the text (``write_back.save_text``), save the custom
metadata, announce."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import Final

from . import custom_metadata as metadata_rules
from . import file_steps, rules, write_back
from .core import Core
from .events import Event, EventKind
from .records import ImageRecord, now_us
from .sql import rows


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
    custom_metadata: object = UNSET,
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
        # Merged and checked before anything changes: a refused patch leaves all as it was.
        new_meta = (
            UNSET
            if custom_metadata is UNSET
            else metadata_rules.to_db(metadata_rules.merge(before.custom_metadata, custom_metadata))
        )
        after: ImageRecord | None = before
        if new_folder is not UNSET and new_folder != before.folder:
            after = file_steps.move(core, before, new_folder)
        assert after is not None
        alt = after.alt_text if new_alt is UNSET else new_alt
        long = after.long_description if new_long is UNSET else new_long
        if (alt, long) != (after.alt_text, after.long_description):
            after, outcome = write_back.save_text(core, after, alt, long)
        if new_meta is not UNSET and new_meta != after.metadata_json:
            now = now_us()
            with core.write() as conn:
                rows.set_custom_metadata(conn, image_id, new_meta, now)
            after = replace(after, metadata_json=new_meta, updated_at_us=now)
    assert after is not None
    if after != before:
        core.events.emit(Event(EventKind.UPDATED, image_id, after, before))
    return after, outcome
