"""The ``/v3/shares`` blueprint (contract Part 2, "Share links"): make a link to a list of
images or to a live folder, list the links, revoke one. The rules are the core's
(``app/library/shares.py``); this module only translates. A link's ``url`` holds its token,
which is kept only as a hash: it is answered once, when the link is made."""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from app.library import InvalidInput, rfc3339, rules
from app.library.shares import Share

from .images_api import library, public_base
from .json_body import json_object, only_fields

bp = Blueprint("shares", __name__, url_prefix="/v3/shares")

_FIELDS: Final = frozenset({"image_ids", "folder", "recursive", "expires_in", "password"})
_EXAMPLE: Final = '{"image_ids": ["img_…"]} or {"folder": "brand", "recursive": true}'


def share_link(base: str, token: str) -> str:
    return f"{base}{rules.SHARE_LINK_PREFIX}{token}"


def share_response(share: Share, image_count: int) -> dict[str, Any]:
    return {
        "id": share.id,
        "kind": "folder" if share.is_folder else "images",
        "folder": share.folder or None,
        "recursive": share.recursive,
        "image_count": image_count,
        "expires_at": None if share.expires_at_us is None else rfc3339(share.expires_at_us),
        "expired": share.expired(),
        "password": share.has_password,
        "created_at": rfc3339(share.created_at_us),
    }


@bp.post("", strict_slashes=False)
def create() -> Response:
    body = json_object(_EXAMPLE)
    only_fields(body, _FIELDS)
    if ("image_ids" in body) == ("folder" in body):
        raise InvalidInput(f"Send either image_ids or folder (not both), e.g. {_EXAMPLE}.")
    shares = library().shares
    made = shares.create(
        image_ids=body.get("image_ids"),
        folder=body.get("folder"),
        recursive=body.get("recursive", False),
        expires_in=body.get("expires_in"),
        password=body.get("password"),
        folder_share="folder" in body,
    )
    answer = {"url": share_link(public_base(), made.token)}
    answer.update(share_response(made.share, shares.image_count(made.share)))
    response = jsonify(answer)
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"  # the only answer that holds the token
    return response


@bp.get("", strict_slashes=False)
def list_shares() -> Response:
    shares = library().shares
    result = [share_response(s, shares.image_count(s)) for s in shares.active()]
    return jsonify({"result": result, "total": len(result)})


@bp.delete("/<share_id>")
def revoke(share_id: str) -> Response:
    """204, revoked at once; unknown or already revoked → 404."""
    library().shares.revoke(share_id)
    return Response(status=204)
