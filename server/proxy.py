"""The public image proxy ``GET|HEAD /i/{id}[?variant=thumbnail]``.

One lean function over werkzeug's Request/Response serves it. The Flask blueprint calls
it, and ``ProxyFastPath`` — a thin WSGI middleware in front of Flask — calls it directly
for ``GET``/``HEAD /i/...``, so the hot path of a LAN image server skips the Flask request
cycle (≈ 300 µs a request) while both paths answer identically. Conditional and range
requests are werkzeug's ``make_conditional`` over a ``wsgi.file_wrapper`` response."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl

from flask import Blueprint, current_app, request
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from app.library import LibraryError, NotFound

from .errors import (
    error_response,
    http_error_response,
    internal_error_response,
    library_error_response,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from app.library import Library

log = logging.getLogger(__name__)

PREFIX: Final = "/i/"
THUMBNAIL: Final = "thumbnail"
FILE_BLOCK: Final = 64 * 1024
# Content never changes under an id+variant (a new upload is a new id), so caches may
# keep it for a year without asking again.
IMMUTABLE: Final = "public, max-age=31536000, immutable"
_COMMON_HEADERS: Final = (
    ("Access-Control-Allow-Origin", "*"),
    ("X-Content-Type-Options", "nosniff"),
)


def _variant(query_string: str) -> str | None:
    """The ``variant`` asked for (``None`` for the original); other parameters, such as
    a cache-buster, are ignored."""
    if "variant" not in query_string:
        return None
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key == "variant":
            return value
    return None


def _with_common_headers(response: Response) -> Response:
    for key, value in _COMMON_HEADERS:
        response.headers[key] = value
    return response


def _file_response(
    environ: WSGIEnvironment, path: os.PathLike[str] | str, content_type: str, etag: str
) -> Response:
    """The file at ``path`` with a strong ``etag``, answering ``If-None-Match`` (304),
    ``Range`` (206/416) and ``HEAD`` through werkzeug."""
    try:
        f = open(path, "rb")  # noqa: SIM115 -- closed by the response when it is sent
    except FileNotFoundError:
        raise NotFound("The image's file is missing from the library folder.") from None
    try:
        size = os.fstat(f.fileno()).st_size
        response = Response(
            wrap_file(environ, f, FILE_BLOCK), direct_passthrough=True, content_type=content_type
        )
        response.content_length = size
        response.set_etag(etag)
        response.headers["Cache-Control"] = IMMUTABLE
        response.make_conditional(environ, accept_ranges=True, complete_length=size)
    except BaseException:
        f.close()
        raise
    return response


def image_response(library: Library, environ: WSGIEnvironment, image_id: str) -> Response:
    """The response to ``GET``/``HEAD /i/{image_id}``, errors included (always JSON)."""
    try:
        variant = _variant(environ.get("QUERY_STRING", ""))
        if variant is None:
            record, path = library.original_path(image_id)
            response = _file_response(environ, path, record.content_type, record.etag)
        elif variant == THUMBNAIL:
            _, thumb = library.thumbnail(image_id)
            response = _file_response(environ, thumb.path, thumb.content_type, thumb.etag)
        else:
            response = error_response(
                400,
                "invalid_variant",
                f"Unknown variant {variant!r}: leave it out for the original, or ask for "
                "variant=thumbnail.",
            )
    except RequestedRangeNotSatisfiable as exc:
        response = http_error_response(exc)
    except LibraryError as exc:
        response = library_error_response(exc)
    except Exception:
        log.exception("Serving %s failed", image_id)
        response = internal_error_response()
    return _with_common_headers(response)


def _image_id_of(environ: WSGIEnvironment) -> str | None:
    """The id in ``/i/{id}`` for a GET or HEAD, else ``None`` (left to Flask)."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return None
    path: str = environ.get("PATH_INFO", "")
    if not path.startswith(PREFIX):
        return None
    image_id = path[len(PREFIX) :]
    if not image_id or "/" in image_id:
        return None
    return image_id


class ProxyFastPath:
    """WSGI middleware: ``GET|HEAD /i/{id}`` straight to ``image_response``; everything
    else to the wrapped (Flask) application."""

    def __init__(self, app: WSGIApplication, library: Library) -> None:
        self.app = app
        self.library = library

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        image_id = _image_id_of(environ)
        if image_id is None:
            return self.app(environ, start_response)
        return image_response(self.library, environ, image_id)(environ, start_response)


bp = Blueprint("proxy", __name__, url_prefix="/i")


@bp.route("/<image_id>", methods=["GET", "HEAD"])
def serve(image_id: str) -> Response:
    """The same handler, reached through Flask when the fast path is not installed."""
    return image_response(current_app.extensions["imageshelf"], request.environ, image_id)
