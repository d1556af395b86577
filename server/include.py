"""``include=``: the optional parts of an ``ImageResponse`` a client asks for —
``exif`` (camera, lens, exposure, date taken, ``has_location``) and ``location`` (its
coordinates, inside ``exif``). Comma-separated or repeated; ``location`` needs ``exif``
beside it (the contract's ``include=exif,location``); anything else is refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from werkzeug.datastructures import MultiDict

from imageshelf.app.library import ExifFacts
from imageshelf.app.library.errors import InvalidParameter

PARTS: Final = ("exif", "location")


@dataclass(frozen=True, slots=True)
class Include:
    exif: bool = False
    location: bool = False


NOTHING: Final = Include()


def read(args: MultiDict[str, str]) -> Include:
    asked = {part.strip() for raw in args.getlist("include") for part in raw.split(",")}
    asked.discard("")
    unknown = sorted(asked - set(PARTS))
    if unknown:
        raise InvalidParameter(
            f"include takes {' and '.join(PARTS)} (include=exif,location); "
            f"{', '.join(repr(u) for u in unknown)} is not one of them."
        )
    if "location" in asked and "exif" not in asked:
        raise InvalidParameter("The location is part of the EXIF: ask for include=exif,location.")
    return Include(exif="exif" in asked, location="location" in asked)


def exif_json(facts: ExifFacts, *, location: bool) -> dict[str, Any]:
    """The contract's ``exif`` object; ``location`` adds ``exif.location``."""
    out: dict[str, Any] = {
        "make": facts.make,
        "model": facts.model,
        "lens_model": facts.lens_model,
        "taken_at": facts.taken_at_text,
        "exposure_time": facts.exposure_time,
        "f_number": facts.f_number,
        "iso": facts.iso,
        "focal_length_mm": facts.focal_length_mm,
        "orientation": facts.orientation,
        "has_location": facts.has_location,
    }
    if location:
        out["location"] = (
            {
                "latitude": facts.latitude,
                "longitude": facts.longitude,
                "altitude_m": facts.altitude_m,
            }
            if facts.has_location
            else None
        )
    return out
