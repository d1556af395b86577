"""The image as the rest of the program sees it: an immutable record, safe to hand
between threads, with the root folder as ``None``."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .exif_facts import COLUMNS as EXIF_COLUMNS
from .exif_facts import NO_EXIF, UNDATED_SORT_OFFSET_US, ExifFacts, from_columns


def now_us() -> int:
    return time.time_ns() // 1000


def us_to_datetime(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, tz=UTC)


def rfc3339(value: int) -> str:
    """``2026-04-23T10:00:00Z``, with a fraction only where there is one."""
    dt = us_to_datetime(value)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def folder_to_db(folder: str | None) -> str:
    return folder or ""


def folder_from_db(folder: str) -> str | None:
    return folder or None


@dataclass(frozen=True, slots=True)
class ImageRecord:
    id: str
    folder: str | None
    filename: str
    original_filename: str
    content_type: str
    size: int
    width: int
    height: int
    sha256: str
    alt_text: str | None
    created_at_us: int
    updated_at_us: int
    # IPTC Extended Description (Accessibility); last, with a default, so records built
    # before it existed (tests, other modules) still build.
    long_description: str | None = None
    # Contract Part 2's custom_metadata as its stored JSON text (``None``: none), so the
    # record stays immutable and hashable; ``custom_metadata`` reads it.
    metadata_json: str | None = None
    # What the file's EXIF says, read when it came in (``exif_read.py``).
    exif: ExifFacts = NO_EXIF

    @property
    def relpath(self) -> str:
        return f"{self.folder}/{self.filename}" if self.folder else self.filename

    @property
    def etag(self) -> str:
        """The strong validator of the original bytes (unquoted)."""
        return self.sha256

    @property
    def created_at(self) -> datetime:
        return us_to_datetime(self.created_at_us)

    @property
    def updated_at(self) -> datetime:
        return us_to_datetime(self.updated_at_us)

    @property
    def custom_metadata(self) -> dict[str, str | int | float | bool]:
        """A fresh dict each time: ``{}`` when the image has none."""
        if not self.metadata_json:
            return {}
        value = json.loads(self.metadata_json)
        assert isinstance(value, dict)
        return value

    @property
    def taken_sort_us(self) -> int:
        """The ``sort=taken`` key: the date taken (wall clock), or for an undated image
        its ``created_at`` far below every date (``exif_facts.TAKEN_SORT_SQL``)."""
        taken = self.exif.taken_at_us
        return self.created_at_us + UNDATED_SORT_OFFSET_US if taken is None else taken

    @property
    def needs_alt_text(self) -> bool:
        return self.alt_text is None

    @classmethod
    def from_row(cls, row: Any) -> ImageRecord:
        m = row._mapping
        return cls(
            id=m["id"],
            folder=folder_from_db(m["folder"]),
            filename=m["filename"],
            original_filename=m["original_filename"],
            content_type=m["content_type"],
            size=m["size"],
            width=m["width"],
            height=m["height"],
            sha256=m["sha256"],
            alt_text=m["alt_text"],
            created_at_us=m["created_at"],
            updated_at_us=m["updated_at"],
            long_description=m["long_description"],
            metadata_json=m["custom_metadata"],
            exif=from_columns([m[c] for c in EXIF_COLUMNS]),
        )


@dataclass(frozen=True, slots=True)
class Page:
    items: list[ImageRecord]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True, slots=True)
class FolderInfo:
    path: str
    count: int  # images directly in this folder
