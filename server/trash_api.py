"""The ``/v3/trash`` blueprint: what ``DELETE /v3/images/{id}`` sent to the trash, listed,
restored, purged one by one, or all at once. Views only translate; the rules (and the
``not_in_trash``, 404 and 410 answers) are the core's (``app/library/trash.py``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from imageshelf.app.library import rfc3339, rules
from imageshelf.app.library.trash import TrashItem

from .auth import current_limit
from .images_api import _image_json, _whole_number, library, public_base
from .serialize import image_response

bp = Blueprint("trash", __name__, url_prefix="/v3/trash")


def trash_item_response(item: TrashItem, base: str) -> dict[str, Any]:
    """An ``ImageResponse`` plus ``deleted_at`` and ``purge_at`` (``null`` when the
    library keeps its trash until emptied)."""
    body = image_response(item.image, base)
    body["deleted_at"] = rfc3339(item.deleted_at_us)
    body["purge_at"] = None if item.purge_at_us is None else rfc3339(item.purge_at_us)
    return body


@bp.get("", strict_slashes=False)
def list_trash() -> Response:
    """``page``, ``page_size`` as the image listing; most recently deleted first."""
    page = _whole_number("page", 1)
    page_size = _whole_number("page_size", rules.DEFAULT_PAGE_SIZE)
    result = library().trash.items(page, page_size, within=current_limit())
    base = public_base()
    return jsonify(
        {
            "result": [trash_item_response(i, base) for i in result.items],
            "total": result.total,
            "page": result.page,
            "page_size": result.page_size,
        }
    )


@bp.post("/<image_id>/restore")
def restore(image_id: str) -> Response:
    """200 with the restored image; 409 ``not_in_trash`` for a live one; 404; 410."""
    return _image_json(library().trash.restore(image_id))


@bp.delete("/<image_id>")
def purge(image_id: str) -> Response:
    """204: gone for good. 409 ``not_in_trash`` for a live one; 404; 410 once purged."""
    library().trash.purge(image_id)
    return Response(status=204)


@bp.post("/empty")
def empty() -> Response:
    return jsonify({"purged": library().trash.empty()})
