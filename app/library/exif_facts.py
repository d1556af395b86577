"""What an image's EXIF says, as the library keeps it: the facts read once when the image
entered the library (``exif_read.py``), stored in columns of its row, and shown by the API
(``include=exif``) and the window's details pane.

``taken_at_us`` is the date taken *as written in the file*: a wall-clock time, kept as
microseconds since 1970-01-01T00:00:00 of that same wall clock (no zone applied), so it
sorts as people read it; ``taken_offset_min`` is the file's offset from UTC where it gives
one (EXIF 2.31 ``OffsetTimeOriginal``). Nothing here is ever made up: a field the file
does not have, or has in a form that cannot be trusted, is ``None``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

# The version of ``exif_read`` that filled a row's columns (its ``exif_read``): bumped when
# the reader learns more, so the background fill (``exif_fill.py``) reads those rows again.
READER_VERSION: Final = 1

# Where an image without a date taken stands in ``sort=taken``: its ``created_at`` moved
# below every real wall clock (year 1 is -62,135,596,800,000,000 µs), so "newest taken
# first" puts the undated last, newest added first. A value, never NULL, and all but
# unique, so the sort key is one index column a keyset cursor seeks to directly (a
# constant would make every undated image a tie the cursor walks through).
UNDATED_SORT_OFFSET_US: Final = -(2**62)
# The sort key in SQL, exactly as the indexes of migration 0012 declare it (an index on an
# expression serves only that expression, character for character).
TAKEN_SORT_SQL: Final = f"coalesce(taken_at, created_at + {UNDATED_SORT_OFFSET_US})"

_EPOCH: Final = datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class ExifFacts:
    make: str | None = None
    model: str | None = None
    lens_model: str | None = None
    taken_at_us: int | None = None
    taken_offset_min: int | None = None
    exposure_time: str | None = None
    f_number: float | None = None
    iso: int | None = None
    focal_length_mm: float | None = None
    orientation: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude_m: float | None = None

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def taken_at(self) -> datetime | None:
        """The date taken: aware when the file gives its offset, naive otherwise."""
        if self.taken_at_us is None:
            return None
        wall = _EPOCH + timedelta(microseconds=self.taken_at_us)
        if self.taken_offset_min is None:
            return wall
        return wall.replace(tzinfo=timezone(timedelta(minutes=self.taken_offset_min)))

    @property
    def taken_at_text(self) -> str | None:
        """RFC 3339 with the file's offset (``2026-04-23T10:00:00+02:00``), or a local
        time without a zone (``2026-04-23T10:00:00``): never a made-up ``Z``."""
        taken = self.taken_at
        if taken is None:
            return None
        text = taken.strftime("%Y-%m-%dT%H:%M:%S")
        if taken.microsecond:
            text += f".{taken.microsecond:06d}".rstrip("0")
        return text + (self.offset_text or "")

    @property
    def offset_text(self) -> str | None:
        """The file's offset from UTC as RFC 3339 writes it (``+02:00``), if it has one."""
        if self.taken_offset_min is None:
            return None
        sign = "-" if self.taken_offset_min < 0 else "+"
        hours, minutes = divmod(abs(self.taken_offset_min), 60)
        return f"{sign}{hours:02d}:{minutes:02d}"

    @property
    def camera(self) -> str | None:
        """Make and model as a person reads them ("Canon EOS R5", not "Canon Canon EOS
        R5": many models already start with the make)."""
        if self.model and self.make and self.model.lower().startswith(self.make.lower()):
            return self.model
        parts = [p for p in (self.make, self.model) if p]
        return " ".join(parts) or None

    @property
    def is_empty(self) -> bool:
        return self == NO_EXIF


def wall_clock_us(value: datetime) -> int:
    """A naive wall-clock time as ``taken_at_us``."""
    delta = value.replace(tzinfo=None) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


NO_EXIF: Final = ExifFacts()

# The columns of ``images`` (and ``trash``) that hold the facts, in the order
# ``from_columns`` reads them.
COLUMNS: Final = (
    "make",
    "model",
    "lens_model",
    "taken_at",
    "taken_offset_min",
    "exposure_time",
    "f_number",
    "iso",
    "focal_length_mm",
    "orientation",
    "latitude",
    "longitude",
    "altitude_m",
)


def from_columns(values: tuple[object, ...] | list[object]) -> ExifFacts:
    if all(v is None for v in values):
        return NO_EXIF
    return ExifFacts(*values)


def to_columns(facts: ExifFacts) -> tuple[object, ...]:
    return (
        facts.make,
        facts.model,
        facts.lens_model,
        facts.taken_at_us,
        facts.taken_offset_min,
        facts.exposure_time,
        facts.f_number,
        facts.iso,
        facts.focal_length_mm,
        facts.orientation,
        facts.latitude,
        facts.longitude,
        facts.altitude_m,
    )
