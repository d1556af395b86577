"""``ImageResponse``: the seed's thirteen fields in the seed's order, with Part 2's
``long_description`` after ``alt_text``."""

from __future__ import annotations

from typing import Any

from imageshelf.app.library import ImageRecord, rfc3339, rules

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
    "folder",
    "created_at",
    "updated_at",
)


def image_url(base: str, image_id: str) -> str:
    return rules.image_link(base, image_id)


def image_response(record: ImageRecord, base: str) -> dict[str, Any]:
    """``base`` is the public origin without a trailing slash (``http://host:port``)."""
    url = image_url(base, record.id)
    return {
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
        "folder": record.folder,
        "created_at": rfc3339(record.created_at_us),
        "updated_at": rfc3339(record.updated_at_us),
    }
