"""``create_app(library, token=..., public_url=...)``: the Flask application factory.

The library is handed in (never created here) and kept in ``app.extensions["imageshelf"]``.
Every error on every path is JSON; ``/v3`` needs the bearer token except the OpenAPI
document, which describes the API and holds no data."""

from __future__ import annotations

import json
import logging
from functools import cache
from importlib.resources import files
from typing import Any, Final
from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

from imageshelf.app.library import Library, LibraryError, rules

from . import (
    auth,
    bulk_api,
    downloads_api,
    events_api,
    idempotency,
    images_api,
    keys_api,
    proxy,
    share_page,
    shares_api,
    trash_api,
    url_api,
)
from .errors import (
    JSON_MIMETYPE,
    error_response,
    http_error_response,
    internal_error_response,
    library_error_response,
)
from .guards import DecodeScope, HostCheck
from .proxy_lane import RememberedLane
from .uploads import UploadRequest

log = logging.getLogger(__name__)

# The core refuses a file one byte over 10 MiB with its exact check (413); the body may
# carry that much plus the multipart envelope (boundaries, part headers, alt text up to
# 2,000 characters, folder, filename). Anything longer is refused before being read.
MULTIPART_ALLOWANCE: Final = 64 * 1024
MAX_CONTENT_LENGTH: Final = rules.MAX_UPLOAD_BYTES + MULTIPART_ALLOWANCE

OPENAPI_PATH: Final = "/v3/openapi.json"
# Package data, read through importlib.resources so it is found in a wheel, a zip or a
# PyInstaller bundle alike (and whatever the package is called).
OPENAPI_RESOURCE: Final = ("resources", "openapi.json")


@cache
def openapi_document() -> bytes:
    return files(__package__ or __name__).joinpath(*OPENAPI_RESOURCE).read_bytes()


class _Flask(Flask):
    """Flask whose routing redirects (``/v3//images`` → ``/v3/images``) are JSON like
    every other answer and point at a path, never at the request's ``Host``: an absolute
    URL built from a forged Host is an open redirect a cache could keep."""

    def handle_http_exception(self, e: HTTPException) -> Any:
        if isinstance(e, RequestRedirect):
            target = urlsplit(e.new_url)
            location = target.path + (f"?{target.query}" if target.query else "")
            return error_response(
                e.code,
                "moved",
                f"This address is spelled {location}; ask there.",
                {"Location": location},
            )
        return super().handle_http_exception(e)


def create_app(
    library: Library,
    *,
    token: str,
    public_url: str | None = None,
    proxy_fast_path: bool = True,
    loopback_only: bool = False,
    max_streams: int | None = None,
) -> Flask:
    """``proxy_fast_path`` puts ``ProxyFastPath`` in front of Flask (the default); tests
    turn it off to exercise the blueprint route to the same handler. ``loopback_only``
    (the server listens on this computer only) refuses requests for other hosts (421)."""
    if not token:
        raise ValueError("An API token is required.")
    app = _Flask("imageshelf")
    app.request_class = UploadRequest  # file parts stream into the library's tmp/
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        IMAGESHELF_PUBLIC_URL=public_url.rstrip("/") if public_url else None,
    )
    app.config[idempotency.PRINCIPAL_CONFIG] = idempotency.principal_for(token)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the seed's field order
    app.extensions["imageshelf"] = library

    @app.get(OPENAPI_PATH)
    def openapi() -> Response:
        try:
            return Response(openapi_document(), mimetype=JSON_MIMETYPE)
        except OSError:  # an install that left the package data out
            return error_response(
                404, "not_found", "The OpenAPI document is not installed with this copy."
            )

    image_proxy = proxy.ImageProxy(library)
    app.extensions[proxy.EXTENSION_KEY] = image_proxy
    app.register_blueprint(images_api.bp)
    app.register_blueprint(bulk_api.bp)
    app.register_blueprint(downloads_api.bp)
    app.register_blueprint(url_api.bp)
    app.register_blueprint(events_api.bp)
    app.extensions[events_api.EXTENSION_KEY] = events_api.EventStreams(
        events_api.stream_limit(max_streams)
    )
    app.register_blueprint(trash_api.bp)
    app.register_blueprint(keys_api.bp)
    app.register_blueprint(shares_api.bp)
    app.register_blueprint(share_page.bp)
    app.register_blueprint(proxy.bp)
    _register_error_handlers(app)
    # Last, once every route is there: each /v3 rule's scope, from the document.
    auth.install(app, library, token, _document_for_scopes())
    if proxy_fast_path:
        app.wsgi_app = proxy.ProxyFastPath(app.wsgi_app, image_proxy)  # type: ignore[method-assign]
    app.wsgi_app = DecodeScope(app.wsgi_app)  # type: ignore[method-assign]
    hosts = HostCheck(app.wsgi_app, public_url) if loopback_only else None
    if hosts is not None:
        app.wsgi_app = hosts  # type: ignore[method-assign]
    if proxy_fast_path:
        # Outermost: remembered answers skip every layer above (the host checked the same).
        app.wsgi_app = RememberedLane(app.wsgi_app, image_proxy, hosts)  # type: ignore[method-assign]
    return app


def _document_for_scopes() -> dict[str, Any]:
    """The OpenAPI document the scopes are read from; without it (an install that left
    the package data out) every /v3 operation needs admin: closed, not open."""
    try:
        document: dict[str, Any] = json.loads(openapi_document())
    except (OSError, ValueError):
        log.error("The OpenAPI document is missing: every /v3 operation needs an admin key.")
        return {}
    return document


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(LibraryError)
    def library_error(error: LibraryError) -> Response:
        return library_error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return http_error_response(error, request.method)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("Unexpected error on %s %s", request.method, request.path)
        return internal_error_response()
