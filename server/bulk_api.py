"""``POST /v3/images/bulk_delete`` (seed 004): many images to the trash in one request.
The rules and the three answer lists are the core's (``app/library/bulk.py``)."""

from __future__ import annotations

from typing import Final

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from . import idempotency
from .auth import current_limit
from .images_api import library
from .json_body import json_object, only_fields

bp = Blueprint("bulk", __name__, url_prefix="/v3/images")

BULK_DELETE_FIELDS: Final = frozenset({"image_ids", idempotency.FIELD})


@bp.post("/bulk_delete")
def bulk_delete() -> Response:
    body = json_object('{"image_ids": ["img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"]}')
    only_fields(body, BULK_DELETE_FIELDS)
    key = idempotency.requested_key(body.pop(idempotency.FIELD, None))

    def run() -> Response:
        result = library().delete_many(body.get("image_ids"), within=current_limit())
        return jsonify(
            {
                "deleted": result.deleted,
                "already_deleted": result.already_deleted,
                "not_found": result.not_found,
            }
        )

    return idempotency.run_once(key, "POST /v3/images/bulk_delete", body, run)
