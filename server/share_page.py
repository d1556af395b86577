"""``/s/{token}``: the page a share link opens, its images and its QR code (contract
Part 2, "Share links").

Every request looks the share up again (revoked or unknown → 404, expired → 410), before
any conditional answer, so a client revalidating its cached copy (``If-None-Match``) is
told at once. Nothing under ``/s/`` is ``immutable``: ``Cache-Control: private, max-age``
is at most ``SHARE_MAX_AGE_S`` (and never past the link's expiry), with an ``ETag``.
Images are served by the proxy's own handler (``ImageProxy``, transforms included) with
the share's caching headers in place of the public ones. Errors are JSON unless the
request's ``Accept`` prefers ``text/html``: then a small page with the same status."""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlencode

import segno
from flask import Blueprint, current_app, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Response

from imageshelf.app.library import Gone, LibraryError, NotFound, rules
from imageshelf.app.library.records import now_us
from imageshelf.app.library.shares import Share, describe_scope

from . import share_html
from .errors import error_response, status_for
from .images_api import library, public_base
from .proxy import EXTENSION_KEY, ImageProxy

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

bp = Blueprint("share_page", __name__, url_prefix="/s")

COOKIE: Final = "imageshelf_share"
MAX_FORM_BYTES: Final = 8 * 1024
# Headers of the public proxy that a share's answer does not carry: its caching is the
# share's, and no other site's script may read a share's images (no CORS).
_DROPPED: Final = frozenset({"cache-control", "access-control-allow-origin"})
_SECURITY: Final = (
    ("Referrer-Policy", "no-referrer"),  # the token never leaves in a Referer
    ("X-Content-Type-Options", "nosniff"),
    ("X-Robots-Tag", "noindex"),
)
_PAGE_CSP: Final = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def prefers_html(accept_header: str | None) -> bool:
    """Whether an ``Accept`` header ranks ``text/html`` above JSON (a browser does;
    curl's ``*/*`` and a script's ``application/json`` do not)."""
    accept = parse_accept_header(accept_header, MIMEAccept)
    return accept.quality("text/html") > accept.quality("application/json")


def _prefers_html() -> bool:
    return prefers_html(request.headers.get("Accept"))


def html_error(status: int, message: str) -> Response:
    """The small page an error under ``/s/`` is for a browser."""
    response = Response(share_html.error_page(status, message), status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, code: str, message: str) -> Response:
    if _prefers_html():
        response = html_error(status, message)
    else:
        response = error_response(status, code, message)
    response.headers["Vary"] = "Accept"
    for key, value in _SECURITY:
        response.headers[key] = value
    return response


def _library_error(error: LibraryError) -> Response:
    return _error(status_for(error), error.code, error.message)


def cache_control(share: Share) -> str:
    """``private, max-age=N``: N at most ``SHARE_MAX_AGE_S`` and never past the expiry."""
    age = rules.SHARE_MAX_AGE_S
    if share.expires_at_us is not None:
        left = math.floor((share.expires_at_us - now_us()) / 1_000_000)
        age = max(0, min(age, left))
    return f"private, max-age={age}"


def _prefix(token: str) -> str:
    return f"{rules.SHARE_LINK_PREFIX}{token}"


def _open(token: str) -> Share | Response:
    """The share, or the answer that says why not (404, 410, or the password form)."""
    try:
        share = library().shares.open(token)
    except (NotFound, Gone) as exc:
        return _library_error(exc)
    if library().shares.session_ok(share, request.cookies.get(COOKIE)):
        return share
    return _password_needed(token, wrong=False)


def _password_needed(token: str, *, wrong: bool) -> Response:
    status = 403
    if _prefers_html():
        response = Response(
            share_html.password_form(_prefix(token), wrong), status, mimetype="text/html"
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = _PAGE_CSP
    elif wrong:
        response = error_response(status, "wrong_password", "That password is not right.")
    else:
        response = error_response(
            status,
            "password_required",
            f"This share link needs its password: POST it as the form field 'password' to "
            f"{_prefix(token)}, then send the cookie it sets.",
        )
    response.headers["Vary"] = "Accept, Cookie"
    for key, value in _SECURITY:
        response.headers[key] = value
    return response


def _conditional(response: Response, share: Share) -> Response:
    """ETag from the body, the share's caching, 304 when the client has it."""
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.headers["Cache-Control"] = cache_control(share)
    response.headers["Vary"] = "Accept, Cookie"
    for key, value in _SECURITY:
        response.headers[key] = value
    return response.make_conditional(request)


@bp.route("/<token>", methods=["GET", "HEAD"])
def page(token: str) -> Response:
    share = _open(token)
    if isinstance(share, Response):
        return share
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 1_000_000:
        return _error(400, "invalid_input", "page must be a whole number of at least 1.")
    try:
        found = library().shares.images(share, int(raw))
    except LibraryError as exc:
        return _library_error(exc)
    pages = max(1, math.ceil(found.total / found.page_size))
    html = share_html.share_page(
        _prefix(token),
        describe_scope(share),
        found.items,
        total=found.total,
        page=found.page,
        pages=pages,
        expires_at_us=share.expires_at_us,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _PAGE_CSP
    return _conditional(response, share)


@bp.post("/<token>")
def password(token: str) -> Response:
    """The form's answer: a right password sets the share's cookie and goes to the page
    (303); a wrong one shows the form again (403)."""
    try:
        share = library().shares.open(token)
    except (NotFound, Gone) as exc:
        return _library_error(exc)
    if (request.content_length or 0) > MAX_FORM_BYTES:
        return _error(413, "too_large", "The form is larger than a password needs.")
    try:
        right = library().shares.check_password(share, request.form.get("password"))
    except LibraryError as exc:  # too many checks at once: 503
        return _library_error(exc)
    if not right:
        return _password_needed(token, wrong=True)
    response = Response(status=303, headers={"Location": _prefix(token)})
    response.headers["Cache-Control"] = "no-store"
    if share.has_password:
        left = None
        if share.expires_at_us is not None:
            left = max(0, (share.expires_at_us - now_us()) // 1_000_000)
        response.set_cookie(
            COOKIE,
            library().shares.session_value(share),
            max_age=left,
            path=_prefix(token),
            secure=request.scheme == "https",
            httponly=True,
            samesite="Strict",
        )
    return response


@bp.route("/<token>/qr.svg", methods=["GET", "HEAD"])
def qr(token: str) -> Response:
    share = _open(token)
    if isinstance(share, Response):
        return share
    url = public_base() + _prefix(token)
    return _conditional(Response(qr_svg(url), mimetype="image/svg+xml"), share)


def qr_svg(url: str) -> bytes:
    """A QR code of ``url`` as SVG that scales to whatever box shows it (a viewBox, no
    fixed size), with a title for screen readers."""
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=4, border=4, omitsize=True, xmldecl=False, title=url
    )
    return out.getvalue()


@bp.route("/<token>/i/<name>", methods=["GET", "HEAD"])
def image(token: str, name: str) -> Any:
    share = _open(token)
    if isinstance(share, Response):
        return share
    try:
        library().shares.image(share, name.partition(".")[0])
    except LibraryError as exc:
        return _library_error(exc)
    proxy: ImageProxy = current_app.extensions[EXTENSION_KEY]
    cache = cache_control(share)

    html = _prefers_html()

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # ``v`` would make the proxy's answer immutable: a share's never is.
        query = urlencode(
            [(k, v) for k, v in parse_qsl(environ.get("QUERY_STRING", ""), True) if k != "v"]
        )
        inner = {
            **environ,
            "PATH_INFO": rules.IMAGE_LINK_PREFIX + name,
            "QUERY_STRING": query,
        }
        captured: dict[str, str] = {}

        def share_headers(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            failed = status.startswith(("4", "5"))
            if failed and html:  # held back: answered as a page (_as_html_on_error)
                captured["status"] = status
                captured.update({k.lower(): v for k, v in headers if k.lower() == "retry-after"})
                return lambda _data: None
            kept = [(k, v) for k, v in headers if k.lower() not in _DROPPED]
            kept.append(("Cache-Control", "no-store" if failed else cache))
            kept.extend(_SECURITY)
            kept.append(("Vary", "Cookie"))
            return start_response(status, kept, *exc)

        body = proxy(inner, share_headers, name)
        return _as_html_on_error(body, captured, environ, start_response)

    return app


def _as_html_on_error(
    body: Iterable[bytes],
    captured: dict[str, str],
    environ: WSGIEnvironment,
    start_response: StartResponse,
) -> Iterable[bytes]:
    """The proxy's JSON error (a bad transform, 503 busy) as the small page a browser
    asked for, with the same status; any other answer passes through."""
    if "status" not in captured:
        return body
    try:
        raw = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    try:
        message = str(json.loads(raw)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = captured["status"]
    page = html_error(int(captured["status"][:3]), message)
    if "retry-after" in captured:
        page.headers["Retry-After"] = captured["retry-after"]
    page.headers["Vary"] = "Accept, Cookie"
    for key, value in _SECURITY:
        page.headers[key] = value
    return page(environ, start_response)
