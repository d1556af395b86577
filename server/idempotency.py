"""The contract's "Idempotency keys" over HTTP: a request carrying ``Idempotency-Key``
(or the field ``idempotency_key``) runs once; a retry with the same content gets the
same status and body again with ``Idempotent-Replayed: true``. The records are the
core's (``app/library/idempotency.py``), per API key: a hash of the bearer token, so
the token itself is never stored."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Final

from flask import current_app, request
from werkzeug.wrappers import Response

from imageshelf.app.library import InvalidInput, Library, LibraryError, rules
from imageshelf.app.library.idempotency import Outcome, StoredAnswer

from .auth import current_principal
from .auth import principal_for as auth_principal_for
from .errors import error_response, library_error_response

HEADER: Final = "Idempotency-Key"
FIELD: Final = "idempotency_key"
REPLAYED: Final = "Idempotent-Replayed"
PRINCIPAL_CONFIG: Final = "IMAGESHELF_PRINCIPAL"
# Answers a retry must run again for (the contract): bad input, auth, too large, faults.
NOT_STORED: Final = frozenset({400, 401, 403, 413})
# Headers replayed with a stored answer (the rest are made fresh, e.g. Date).
KEPT_HEADERS: Final = ("Content-Type", "Location", "Imageshelf-File-Metadata")


class InvalidIdempotencyKey(InvalidInput):
    code = "invalid_idempotency_key"


def principal_for(token: str) -> str:
    return auth_principal_for(token)


def requested_key(field_value: object = None) -> str | None:
    """The request's key from the header and/or the body field; ``None`` without one."""
    header = request.headers.get(HEADER)
    if field_value is not None and not isinstance(field_value, str):
        raise InvalidIdempotencyKey("idempotency_key must be a string.")
    if header is not None and field_value is not None and header != field_value:
        raise InvalidIdempotencyKey(
            "The Idempotency-Key header and the idempotency_key field differ; send one."
        )
    key = header if header is not None else field_value
    if key is None:
        return None
    if not 1 <= len(key) <= rules.MAX_IDEMPOTENCY_KEY_CHARS or not all(
        " " <= ch <= "~" for ch in key
    ):
        raise InvalidIdempotencyKey(
            "An idempotency key is 1 to 255 printable ASCII characters (a UUID is a good one)."
        )
    return key


def fingerprint(endpoint: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps([endpoint, fields], sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    key: str | None,
    endpoint: str,
    fields: dict[str, Any],
    handler: Callable[[], Response],
    cleanup: Callable[[], None] | None = None,
) -> Response:
    """``handler()`` once per (API key, ``key``); ``cleanup()`` when it does not run (a
    replay or a refusal), to drop what was received for it."""
    if key is None:
        return handler()
    lib: Library = current_app.extensions["imageshelf"]
    principal: str = current_principal() or current_app.config[PRINCIPAL_CONFIG]
    try:
        claim = lib.idempotency.claim(principal, key, endpoint, fingerprint(endpoint, fields))
    except BaseException:
        if cleanup is not None:
            cleanup()
        raise
    if claim.outcome is not Outcome.PROCEED:
        if cleanup is not None:
            cleanup()
        if claim.outcome is Outcome.REUSED:
            return error_response(
                422,
                "idempotency_key_reused",
                "This idempotency key was used for a request with other content; use a new "
                "key for a new request.",
            )
        if claim.outcome is Outcome.IN_PROGRESS:
            return error_response(
                409,
                "idempotency_in_progress",
                "A request with this idempotency key is still running; retry once it is done.",
                {"Retry-After": "1"},
            )
        assert claim.stored is not None
        return _replay(claim.stored)
    try:
        try:
            response = handler()
        except LibraryError as error:  # answered here, so a 404 or 409 is stored too
            response = library_error_response(error)
    except BaseException:
        lib.idempotency.release(principal, key)
        raise
    if response.status_code in NOT_STORED or response.status_code >= 500:
        lib.idempotency.release(principal, key)
        return response
    headers = {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}
    lib.idempotency.finish(
        principal,
        key,
        StoredAnswer(response.status_code, json.dumps(headers), response.get_data()),
    )
    return response


def _replay(stored: StoredAnswer) -> Response:
    response = Response(stored.body, status=stored.status)
    for name, value in json.loads(stored.headers).items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response
