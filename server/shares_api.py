"""The ``/v3/shares`` blueprint (contract Part 2, "Share links"): make a link to a list of
images or to a live folder, list the links, revoke one. The rules are the core's
(``app/library/shares.py``); this module only translates. A link's ``url`` holds its token,
which is kept only as a hash: it is answered once, when the link is made."""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from imageshelf.app.library import InvalidInput, NotFound, rfc3339, rules
from imageshelf.app.library.folder_limit import FolderLimit
from imageshelf.app.library.shares import Share

from .auth import current_limit
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


def _check_within(body: dict[str, Any]) -> None:
    """A key limited to folders shares only what it sees: a folder inside them (its
    sub-folders are inside too), images inside them; anything else is 404, as if absent."""
    limit = current_limit()
    if limit is None:
        return
    if "folder" in body:
        folder = rules.normalize_folder(body.get("folder"))
        if not limit.allows(folder):
            raise NotFound(f"There is no folder {folder or '(root)'!r} in the library.")
        return
    ids = body.get("image_ids")
    for image_id in ids if isinstance(ids, list) else ():
        if isinstance(image_id, str) and not library().keys.image_visible(limit, image_id):
            raise NotFound(f"There is no image with id {image_id}.")


def _visible(share: Share, limit: FolderLimit) -> bool:
    """Whether a folder-limited key sees a share: a folder inside its folders, or images
    all inside them."""
    if share.folder is not None:
        return limit.allows(share.folder)
    shares = library().shares
    page = 1
    while True:
        found = shares.images(share, page)
        if not all(limit.allows(r.folder) for r in found.items):
            return False
        if page * found.page_size >= found.total or not found.items:
            return True
        page += 1


@bp.post("", strict_slashes=False)
def create() -> Response:
    body = json_object(_EXAMPLE)
    only_fields(body, _FIELDS)
    if ("image_ids" in body) == ("folder" in body):
        raise InvalidInput(f"Send either image_ids or folder (not both), e.g. {_EXAMPLE}.")
    _check_within(body)
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
    limit = current_limit()
    result = [
        share_response(s, shares.image_count(s))
        for s in shares.active()
        if limit is None or _visible(s, limit)
    ]
    return jsonify({"result": result, "total": len(result)})


@bp.delete("/<share_id>")
def revoke(share_id: str) -> Response:
    """204, revoked at once; unknown or already revoked → 404 (also a share a folder-limited
    key does not see)."""
    limit = current_limit()
    if limit is not None:
        visible = [s for s in library().shares.active() if s.id == share_id]
        if not visible or not _visible(visible[0], limit):
            raise NotFound(f"There is no share {share_id}.")
    library().shares.revoke(share_id)
    return Response(status=204)
