"""``ImageResponse``: the seed's thirteen fields in the seed's order, with Part 2's
``long_description`` after ``alt_text`` and ``custom_metadata`` (``{}`` when none) after it."""

from __future__ import annotations

from typing import Any

from imageshelf.app.library import ImageRecord, rfc3339, rules

from .include import NOTHING, Include, exif_json

IMAGE_FIELDS = (
    "id",
    "filename",
    "original_filename",
    "content_type",
    "size",
    "width",
    "height",
    "url",
    "thumbnail_url",
    "alt_text",
    "long_description",
    "custom_metadata",
    "folder",
    "created_at",
    "updated_at",
)


def image_url(base: str, image_id: str) -> str:
    return rules.image_link(base, image_id)


def image_response(record: ImageRecord, base: str, include: Include = NOTHING) -> dict[str, Any]:
    """``base`` is the public origin without a trailing slash (``http://host:port``);
    ``include``: the optional parts asked for (``exif``, its ``location``), last."""
    url = image_url(base, record.id)
    out = {
        "id": record.id,
        "filename": record.filename,
        "original_filename": record.original_filename,
        "content_type": record.content_type,
        "size": record.size,
        "width": record.width,
        "height": record.height,
        "url": url,
        "thumbnail_url": url + "?variant=thumbnail",
        "alt_text": record.alt_text,
        "long_description": record.long_description,
        "custom_metadata": record.custom_metadata,
        "folder": record.folder,
        "created_at": rfc3339(record.created_at_us),
        "updated_at": rfc3339(record.updated_at_us),
    }
    if include.exif:
        out["exif"] = exif_json(record.exif, location=include.location)
    return out
