"""Reading a small JSON object body: bounded before it is read, parsed strictly, and every
failure a 400 (or 413) that says what was expected."""

from __future__ import annotations

import json
from typing import Any, Final

from flask import request

from imageshelf.app.library import InvalidInput, TooLarge

MAX_JSON_BYTES: Final = 256 * 1024  # 1,000 ids of 30 characters fit many times over


def json_object(example: str, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The request's body as a JSON object; ``example`` shows the caller what to send."""
    too_long = TooLarge(f"This request's JSON body is at most {limit // 1024} KiB.")
    if (request.content_length or 0) > limit:
        raise too_long
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise too_long
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise InvalidInput(f"The body must be a JSON object such as {example}.")
    return body


def only_fields(body: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput(
            f"Unknown field(s) {', '.join(map(repr, unknown))}; expected "
            f"{', '.join(map(repr, sorted(allowed)))}."
        )
