"""``custom_metadata``: a client's own flat key/value pairs on an image (contract Part 2).

The limits are ``rules``' (``MAX_METADATA_*``, ``METADATA_KEY_RE``); this checks an
object against them, merges a ``PATCH`` into the stored object (RFC 7396), converts to
and from the database's JSON text, and defines what ``meta.KEY=VALUE`` matches
(``matches``; ``sql/listing.py`` answers the same rule from ``image_metadata``).

A value is a string, a finite number or a boolean: the object is flat, so a merge
patch only ever sets or removes top-level keys."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from . import rules
from .errors import InvalidMetadata, InvalidParameter

Value = str | int | float | bool
Metadata = dict[str, Value]

# SQLite holds integers in 64 bits: a larger one would come back as an approximation.
_INT64: Final = 2**63
# A JSON number, the way a filter value is read as one ("12", "-1.5", "2e3").
_NUMBER_RE: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _fault(key: str, why: str) -> InvalidMetadata:
    return InvalidMetadata(f"custom_metadata key {key!r}: {why}")


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not rules.METADATA_KEY_RE.fullmatch(key):
        raise InvalidMetadata(
            f"custom_metadata key {key!r} is not allowed: a key is 1-40 characters of "
            "A-Z a-z 0-9 _ . - and does not start with '.' or '-'."
        )
    return key


def _check_value(key: str, value: object) -> Value:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise _fault(key, "a whole number must fit in 64 bits.")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fault(key, "a number must be finite.")
        return value
    if isinstance(value, str):
        if len(value) > rules.MAX_METADATA_STRING_CHARS:
            raise _fault(
                key, f"a string value is at most {rules.MAX_METADATA_STRING_CHARS} characters."
            )
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            raise _fault(key, "the value contains invalid characters (unpaired surrogates).")
        return value
    raise _fault(key, "a value is a string, a number or true/false (no objects, lists or null).")


def check(value: object) -> Metadata:
    """``value`` as stored metadata; ``InvalidMetadata`` naming the key at fault, or
    saying which limit of the whole object is broken."""
    if not isinstance(value, Mapping):
        raise InvalidMetadata('custom_metadata must be a JSON object, e.g. {"sku": "A-12"}.')
    if not value:
        return {}  # most uploads: nothing to check, no JSON to measure
    out: Metadata = {}
    for key, item in value.items():
        out[_check_key(key)] = _check_value(key, item)
    if len(out) > rules.MAX_METADATA_KEYS:
        raise InvalidMetadata(
            f"custom_metadata has {len(out)} keys; at most {rules.MAX_METADATA_KEYS} are allowed."
        )
    size = len(to_json(out).encode())
    if size > rules.MAX_METADATA_BYTES:
        raise InvalidMetadata(
            f"custom_metadata is {size} bytes as JSON; at most {rules.MAX_METADATA_BYTES} "
            "are allowed."
        )
    return out


def parse_field(text: str | None) -> Metadata:
    """The upload's multipart field: a JSON object whose values may not be ``null``."""
    if text is None or text.strip() == "":
        return {}
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InvalidMetadata(
            'custom_metadata must be a JSON object, e.g. {"sku": "A-12"}; it could not be read.'
        ) from None
    return check_new(value)


def check_new(value: object) -> Metadata:
    """``check`` for an image's first metadata (an upload): a ``null`` value, which
    only means "remove" in a merge, is refused."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if item is None:
                raise _fault(str(key), "null is not a value in an upload (leave the key out).")
    return check(value)


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def merge(current: Mapping[str, Value], patch: object) -> Metadata:
    """RFC 7396: ``null`` removes everything; in an object a key set to ``null`` is
    removed and any other is set. The limits apply to the result."""
    if patch is None:
        return {}
    if not isinstance(patch, Mapping):
        raise InvalidMetadata('custom_metadata must be a JSON object or null, e.g. {"sku": null}.')
    merged: dict[str, object] = dict(current)
    for key, item in patch.items():
        if item is None:
            merged.pop(_check_key(key), None)
        else:
            merged[key] = item
    return check(merged)


def to_json(metadata: Mapping[str, Value]) -> str:
    return json.dumps(metadata, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def to_db(metadata: Mapping[str, Value]) -> str | None:
    """The column's value: ``NULL`` for none, else compact JSON (keys in their order)."""
    return to_json(metadata) if metadata else None


def from_db(text: str | None) -> Metadata:
    if not text:
        return {}
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


# --- the meta.KEY=VALUE filter --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetaFilter:
    """``meta.KEY=VALUE``: the string ``VALUE`` exactly, or the number or boolean
    ``VALUE`` reads as (``number``/``boolean`` are ``None`` when it reads as none)."""

    key: str
    text: str
    number: int | float | None
    boolean: bool | None

    @classmethod
    def parse(cls, key: str, text: str) -> MetaFilter:
        if not rules.METADATA_KEY_RE.fullmatch(key):
            raise InvalidParameter(
                f"meta.{key} does not name a custom_metadata key: a key is 1-40 characters "
                "of A-Z a-z 0-9 _ . - and does not start with '.' or '-'."
            )
        if any("\ud800" <= ch <= "\udfff" for ch in text):
            raise InvalidParameter(f"meta.{key} contains invalid characters.")
        return cls(key, text, _as_number(text), {"true": True, "false": False}.get(text))

    def matches(self, metadata: Mapping[str, Value]) -> bool:
        if self.key not in metadata:
            return False
        value = metadata[self.key]
        if isinstance(value, bool):
            return value is self.boolean
        if isinstance(value, str):
            return value == self.text
        return self.number is not None and value == self.number


def _as_number(text: str) -> int | float | None:
    if not _NUMBER_RE.fullmatch(text):
        return None
    if re.fullmatch(r"-?[0-9]+", text):
        whole = int(text)
        return whole if -_INT64 <= whole < _INT64 else float(whole)
    number = float(text)
    return number if math.isfinite(number) else None
