"""HTTP errors: the one place where the core's error codes become statuses, and the one
shape every error body has — ``{"error": {"code", "message"}}`` — on every path."""

from __future__ import annotations

import json
import re
from typing import Final

from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from imageshelf.app.library import (
    Busy,
    ClientGone,
    Duplicate,
    Gone,
    InvalidInput,
    KeyExists,
    LibraryError,
    LibraryLocked,
    NotFound,
    NotInTrash,
    NotReady,
    OutsideKeyFolders,
    StorageError,
    TooLarge,
    UpstreamError,
    UpstreamTimeout,
)
from imageshelf.app.library.rules import UPLOAD_LIMIT_TEXT


class CannotListen(LibraryError):
    """The server could not open its listening socket (bad address, no permission)."""

    code = "cannot_listen"


class PortInUse(CannotListen):
    """Another program already listens on the requested host and port."""

    code = "port_in_use"


# Most specific first: the first class the error is an instance of decides the status.
# StorageError is 507 Insufficient Storage: the request was fine, the library's disk
# refused it (full, read-only, permission denied) and nothing was half-written; the
# message says which. A closed or locked library is 503: try again once it is open.
_STATUS_BY_ERROR: Final[tuple[tuple[type[LibraryError], int], ...]] = (
    (TooLarge, 413),
    (NotFound, 404),
    (Gone, 410),
    (Duplicate, 409),
    (NotInTrash, 409),
    (NotReady, 409),
    (KeyExists, 409),
    (OutsideKeyFolders, 403),
    (InvalidInput, 400),
    (StorageError, 507),
    (LibraryLocked, 503),
    (Busy, 503),
    (ClientGone, 503),
    (UpstreamError, 502),
    (UpstreamTimeout, 504),  # nobody reads it: the client has gone
)
FALLBACK_STATUS: Final = 503

JSON_MIMETYPE: Final = "application/json"
# Every 503 says when to come back (RFC 9110 §10.2.3): a full decode budget or a library
# being opened frees up within seconds.
RETRY_AFTER_SECONDS: Final = 2


def status_for(error: LibraryError) -> int:
    for cls, status in _STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return FALLBACK_STATUS


def code_for_status(status: int) -> str:
    """``405`` → ``method_not_allowed``: the code used where no domain code applies."""
    phrase = HTTP_STATUS_CODES.get(status, "error")
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")


# Codes that read better than the status phrase for the werkzeug errors clients meet.
_HTTP_CODES: Final = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    416: "range_not_satisfiable",
}

_HTTP_MESSAGES: Final = {
    404: "There is nothing at this address. The API lives under /v3/images and the "
    "image links under /i/{{id}}.",
    405: "This address does not accept the {method} method.",
    413: f"The request body is larger than this server accepts ({UPLOAD_LIMIT_TEXT} per image).",
    416: "The requested byte range is outside the file.",
}


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
) -> Response:
    body = json.dumps(
        {"error": {"code": code, "message": message}}, ensure_ascii=False, separators=(",", ":")
    )
    response = Response(body, status=status, mimetype=JSON_MIMETYPE, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    if status == 503 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def library_error_response(error: LibraryError) -> Response:
    return error_response(status_for(error), error.code, error.message)


def http_error_response(error: HTTPException, method: str = "GET") -> Response:
    """A werkzeug/Flask HTTP exception (routing, 405, 413, 416, bad JSON) as JSON, keeping
    the headers that matter (``Allow`` on 405, ``Content-Range`` on 416)."""
    status = error.code or 500
    code = _HTTP_CODES.get(status) or code_for_status(status)
    template = _HTTP_MESSAGES.get(status)
    if template is not None:
        message = template.format(method=method)
    else:
        message = (error.description or HTTP_STATUS_CODES.get(status, "Error")).strip()
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return error_response(status, code, message, headers)


def internal_error_response() -> Response:
    return error_response(
        500, "internal_error", "Something went wrong inside the server; it has been logged."
    )
