"""``POST /v3/images/upload_via_url`` (seed 004): the server fetches the image itself.
The SSRF rules, limits and the write are the core's (``Library.add_from_url``,
``app/library/url_fetch.py``); this view only reads the JSON and answers."""

from __future__ import annotations

from typing import Final

from flask import Blueprint, current_app
from werkzeug.wrappers import Response

from imageshelf.app.library import rules
from imageshelf.app.library.url_fetch import FetchLimits

from . import idempotency
from .auth import require_folder
from .images_api import _image_json, library
from .json_body import json_object, only_fields

bp = Blueprint("url_upload", __name__, url_prefix="/v3/images")

FIELDS: Final = frozenset(
    {
        "url",
        "alt_text",
        "folder",
        "file_name",
        "long_description",
        "custom_metadata",
        idempotency.FIELD,
    }
)
# Tests shorten the limits (``app.config[LIMITS_CONFIG] = FetchLimits(total_s=2)``).
LIMITS_CONFIG: Final = "IMAGESHELF_FETCH_LIMITS"


@bp.post("/upload_via_url")
def upload_via_url() -> Response:
    body = json_object('{"url": "https://example.com/kite.jpg"}')
    only_fields(body, FIELDS)
    key = idempotency.requested_key(body.pop(idempotency.FIELD, None))
    limits: FetchLimits | None = current_app.config.get(LIMITS_CONFIG)
    require_folder(rules.normalize_folder(body.get("folder")))

    def run() -> Response:
        record = library().add_from_url(
            body.get("url"),
            alt_text=body.get("alt_text"),
            folder=body.get("folder"),
            file_name=body.get("file_name"),
            long_description=body.get("long_description"),
            custom_metadata=body.get("custom_metadata"),
            limits=limits,
        )
        response = _image_json(record, 201)
        response.headers["Location"] = f"/v3/images/{record.id}"
        return response

    return idempotency.run_once(key, "POST /v3/images/upload_via_url", body, run)
