"""``/v3/keys``: the caller's own key (``/me``, any key) and, for admins, every key made,
listed and revoked. Who may call which is the OpenAPI document's ``security`` (checked by
``auth.py``); the keys and their rules are the core's (``app/library/keys.py``)."""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from imageshelf.app.library import rfc3339
from imageshelf.app.library.keys import ApiKey

from .auth import current_key
from .images_api import library
from .json_body import json_object, only_fields

bp = Blueprint("keys", __name__, url_prefix="/v3/keys")

CREATE_FIELDS: Final = frozenset({"name", "scope", "folders", "expires_days"})


def _time(value: int | None) -> str | None:
    return None if value is None else rfc3339(value)


def key_me(key: ApiKey) -> dict[str, Any]:
    return {
        "name": key.name,
        "scope": key.scope,
        "folders": None if key.folders is None else list(key.folders),
        "expires_at": _time(key.expires_at_us),
    }


def key_response(key: ApiKey) -> dict[str, Any]:
    return key_me(key) | {
        "created_at": rfc3339(key.created_at_us),
        "last_used_at": _time(key.last_used_at_us),
    }


@bp.get("/me")
def me() -> Response:
    return jsonify(key_me(current_key()))


@bp.get("", strict_slashes=False)
def list_keys() -> Response:
    keys = library().keys.list()
    return jsonify({"result": [key_response(k) for k in keys], "total": len(keys)})


@bp.post("", strict_slashes=False)
def create_key() -> Response:
    body = json_object('{"name": "uploader", "scope": "upload"}')
    only_fields(body, CREATE_FIELDS)
    key, secret = library().keys.create(
        body.get("name"), body.get("scope"), body.get("folders"), body.get("expires_days")
    )
    response = jsonify(key_response(key) | {"secret": secret})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"  # the secret, this once
    return response


@bp.delete("/<name>")
def revoke_key(name: str) -> Response:
    library().keys.revoke(name)
    return Response(status=204)
