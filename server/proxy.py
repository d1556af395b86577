"""The public image proxy ``GET|HEAD /i/{id}[?variant=thumbnail]``.

``ImageProxy`` is a plain WSGI handler. The Flask blueprint calls it, and
``ProxyFastPath`` — a thin WSGI middleware in front of Flask — calls it directly for
``GET``/``HEAD /i/...``, so the hot path of a LAN image server skips the Flask request
cycle (≈ 300 µs a request) while both paths answer identically.

Two paths inside, both deciding conditions with werkzeug:
- the common requests — a plain ``GET``/``HEAD``, or one with ``If-None-Match`` — are
  decided by ``werkzeug.http.is_resource_modified`` and answered from a prebuilt header
  list with the file handed to ``wsgi.file_wrapper``: a werkzeug ``Response`` costs
  ≈ 150 µs, most of the server's own cost per request (``docs/performance.md``);
- everything else (``Range``, ``If-Range``, ``If-Match``, ``If-Unmodified-Since``) goes
  through ``Response.make_conditional`` over ``wrap_file``: 206, 416 and 412 exactly as
  werkzeug does them.

``ServedFiles`` remembers, per id and variant, which file to send with which type and
ETag, so a request costs no database query; every change the library announces drops
the entries it touches."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Final
from urllib.parse import parse_qsl

from flask import Blueprint, current_app
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import is_resource_modified, parse_etags, quote_etag
from werkzeug.wrappers import Response
from werkzeug.wsgi import FileWrapper, wrap_file

from imageshelf.app.library import Event, LibraryError, NotFound, rules
from imageshelf.app.library.storage import opened_size, opens_at_once

from .errors import error_response, http_error_response, internal_error_response
from .errors import library_error_response as _library_error_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from imageshelf.app.library import Library

log = logging.getLogger(__name__)

PREFIX: Final = rules.IMAGE_LINK_PREFIX
THUMBNAIL: Final = rules.THUMBNAIL_VARIANT
FILE_BLOCK: Final = 64 * 1024
# The bytes behind an id can change (an edit outside the app, alt text written into the
# file), so the bare link is revalidated on every use (a 304 when unchanged); only a link
# pinned to the bytes with ``?v=`` (the first VERSION_CHARS of the ETag) is immutable.
# docs/http-api.md, "Decisions: caching".
IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "public, no-cache"
VERSION_CHARS: Final = 16
PUBLIC_HEADERS: Final = (
    ("Access-Control-Allow-Origin", "*"),
    ("X-Content-Type-Options", "nosniff"),
)
# Requests whose answer may be a 206, 412 or 416: left to werkzeug's Response.
_FULL_MACHINERY: Final = frozenset(
    ("HTTP_RANGE", "HTTP_IF_RANGE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")
)
MAX_REMEMBERED: Final = 20_000


@dataclass(frozen=True, slots=True)
class ServedFile:
    open: Callable[[], BinaryIO]  # the core's way to its bytes (storage or thumbnail cache)
    content_type: str
    etag: str  # quoted, strong
    headers: tuple[tuple[str, str], ...]  # those of a 200 except Content-Length
    not_modified_headers: tuple[tuple[str, str], ...]
    version: str  # what ?v= must be for the immutable answer
    pinned_headers: tuple[tuple[str, str], ...]  # the same, immutable
    pinned_not_modified_headers: tuple[tuple[str, str], ...]
    # The stored original's content hash: what transforms of it are keyed by. The ETag
    # differs from it where the bytes sent are not the stored ones (location removed).
    source_sha256: str
    served_version: str  # ?v= may also name the bytes sent: their ETag's start
    # ``open`` for the server's socket loop: a local file's open and nothing that may
    # wait (``FileNotFoundError`` rather than a rebuild); ``None``: only ``open`` will do.
    open_at_once: Callable[[], BinaryIO] | None = None

    @classmethod
    def make(
        cls,
        opener: Callable[[], BinaryIO],
        content_type: str,
        etag: str,
        version: str,
        open_at_once: Callable[[], BinaryIO] | None = None,
    ) -> ServedFile:
        """``version``: the original's content hash, for its thumbnail too (one ``v`` pins
        both; the start of the ETag of an original sent without its location pins it
        too)."""
        quoted = quote_etag(etag)

        def headers(cache: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
            validators = (("ETag", quoted), ("Cache-Control", cache), *PUBLIC_HEADERS)
            return (
                (("Content-Type", content_type), ("Accept-Ranges", "bytes"), *validators),
                validators,
            )

        return cls(
            opener,
            content_type,
            quoted,
            *headers(REVALIDATE),
            version[:VERSION_CHARS],
            *headers(IMMUTABLE),
            version,
            etag[:VERSION_CHARS],
            open_at_once,
        )

    def pinned(self, version: str | None) -> bool:
        """Whether ``?v=`` names exactly these bytes (then the answer is immutable)."""
        return version is not None and version in (self.version, self.served_version)


class ServedFiles:
    """``(id, thumbnail?)`` → ``ServedFile``, remembered until the library announces a
    change to that id (any change at all for a reload). A lookup that raced with a change
    is not remembered: the generation counter moved while it read."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._entries: dict[tuple[str, bool], ServedFile] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._settings_version = library.core.settings_version
        self.unsubscribe: Callable[[], None] = library.subscribe(self._on_change)

    def _on_change(self, event: Event) -> None:
        with self._lock:
            self._generation += 1
            if event.image_id is None:
                self._entries.clear()
            else:
                self._entries.pop((event.image_id, False), None)
                self._entries.pop((event.image_id, True), None)

    def _settings_changed(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._settings_version = self.library.core.settings_version

    def forget(self, image_id: str, thumbnail: bool) -> None:
        with self._lock:
            self._generation += 1
            self._entries.pop((image_id, thumbnail), None)

    def remembered(self, image_id: str, thumbnail: bool) -> ServedFile | None:
        """The remembered entry, or ``None`` (never looks anything up)."""
        if self._settings_version != self.library.core.settings_version:
            return None  # ``lookup`` forgets everything first
        return self._entries.get((image_id, thumbnail))

    def lookup(self, image_id: str, thumbnail: bool) -> ServedFile:
        """Raises the library's ``NotFound``/``Gone`` for unknown or deleted ids."""
        key = (image_id, thumbnail)
        if self._settings_version != self.library.core.settings_version:
            self._settings_changed()  # *Share location in links* may have turned
        served = self._entries.get(key)
        if served is not None:
            return served
        generation = self._generation
        if thumbnail:
            record, thumb = self.library.thumbnail(image_id)
            at_once = thumb.open if opens_at_once(thumb.store) else None
            served = ServedFile.make(
                thumb.open, thumb.content_type, thumb.etag, record.etag, at_once
            )
        else:
            # The stored bytes, or the same without GPS while *Share location in links*
            # is off (decided once per content hash by the core, then remembered here).
            original = self.library.served_original(image_id)
            record = original.record
            served = ServedFile.make(
                original.open,
                record.content_type,
                original.etag,
                record.etag,
                original.open_at_once,
            )
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= MAX_REMEMBERED:
                    self._entries.clear()
                self._entries[key] = served
        return served


def _variant(query_string: str, name: str = "variant") -> str | None:
    """The ``variant`` (or ``v``) asked for (``None`` when absent); other parameters, such
    as a cache-buster, are ignored."""
    if name not in query_string:
        return None
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key == name:
            return value
    return None


class ImageProxy:
    """The WSGI handler for one ``/i/{image_id}`` request (``GET`` or ``HEAD``)."""

    def __init__(self, library: Library) -> None:
        from .transforms import TransformProxy  # it builds on this module

        self.files = ServedFiles(library)
        self.transforms = TransformProxy(library, self)

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse, image_id: str
    ) -> Iterable[bytes]:
        if self.transforms.wants(image_id, environ.get("QUERY_STRING", "")):
            return self.transforms(environ, start_response, image_id)
        try:
            variant = _variant(environ.get("QUERY_STRING", ""))
            if variant is not None and variant != THUMBNAIL:
                return _public(_invalid_variant(variant))(environ, start_response)
            thumbnail = variant == THUMBNAIL
            version = _variant(environ.get("QUERY_STRING", ""), "v")
            if not environ.keys().isdisjoint(_FULL_MACHINERY):  # a C loop over 4 names
                return self._conditional(environ, image_id, thumbnail, version)(
                    environ, start_response
                )
            served = self._lookup(image_id, thumbnail)
            # No Last-Modified is sent, so only If-None-Match can make a 304. A client
            # revalidating sends back the ETag it was given: that exact string needs no
            # parsing (werkzeug's costs more than the rest of the 304 together).
            if_none_match = environ.get("HTTP_IF_NONE_MATCH")
            if if_none_match is not None and (
                if_none_match == served.etag or not is_resource_modified(environ, etag=served.etag)
            ):
                not_modified = (
                    served.pinned_not_modified_headers
                    if served.pinned(version)
                    else served.not_modified_headers
                )
                start_response("304 Not Modified", list(not_modified))
                return []
            f, served = self._open(image_id, thumbnail, served)
        except LibraryError as exc:
            return _public(_library_error_response(exc))(environ, start_response)
        except Exception:
            log.exception("Serving %s failed", image_id)
            return _public(internal_error_response())(environ, start_response)
        ok = served.pinned_headers if served.pinned(version) else served.headers
        return send_open_file(environ, start_response, f, ok)

    def _lookup(self, image_id: str, thumbnail: bool) -> ServedFile:
        """A thumbnail built while its image is being deleted finds the original gone:
        once the delete is done the answer is the tombstone's 410."""
        try:
            return self.files.lookup(image_id, thumbnail)
        except NotFound:
            if not thumbnail:
                raise
            self.files.library.get(image_id)  # an unknown id stays a plain 404, lock-free
        with self.files.library.settled():
            return self.files.lookup(image_id, thumbnail)

    def _open(self, image_id: str, thumbnail: bool, served: ServedFile) -> tuple[Any, ServedFile]:
        """Opens the file to send. A remembered path that has gone (moved, thumbnail cache
        cleared) is looked up again; still missing, a move, rename or delete is in flight
        between its file step and its commit: look once more after it (``settled``), when
        the row names the new place or the id is a tombstone (410, never a 404)."""
        try:
            return served.open(), served
        except FileNotFoundError:
            self.files.forget(image_id, thumbnail)
        try:
            served = self.files.lookup(image_id, thumbnail)
            return served.open(), served
        except (FileNotFoundError, NotFound):
            pass
        with self.files.library.settled():
            self.files.forget(image_id, thumbnail)
            served = self.files.lookup(image_id, thumbnail)
            try:
                return served.open(), served
            except FileNotFoundError:
                self.files.forget(image_id, thumbnail)
                raise NotFound("The image's file is missing from the library folder.") from None

    def _conditional(
        self, environ: WSGIEnvironment, image_id: str, thumbnail: bool, version: str | None
    ) -> Response:
        """Range and precondition requests through werkzeug's ``make_conditional``, the
        preconditions decided here first (RFC 9110 §13.2.2): ``If-Match`` — ``*`` matches
        any current image, else one of its strong ETags must — fails with a JSON 412;
        ``If-Unmodified-Since`` is ignored, as no ``Last-Modified`` is ever sent. werkzeug
        sent the image with a 412 status, and took ``*`` for a mismatch."""
        served = self._lookup(image_id, thumbnail)
        if_match = environ.get("HTTP_IF_MATCH")
        if if_match is not None:
            etags = parse_etags(if_match)
            if not (etags.star_tag or etags.contains(served.etag.strip('"'))):
                return _public(
                    error_response(
                        412,
                        "precondition_failed",
                        "If-Match names none of this image's ETags: it has changed "
                        "or is another image.",
                        {"ETag": served.etag},
                    )
                )
        environ = {
            k: v
            for k, v in environ.items()
            if k not in ("HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")
        }
        f, served = self._open(image_id, thumbnail, served)
        try:
            size = _size_of(f)
            response = Response(
                wrap_file(environ, f, FILE_BLOCK),
                direct_passthrough=True,
                content_type=served.content_type,
            )
            response.content_length = size
            response.set_etag(served.etag.strip('"'))
            response.headers["Cache-Control"] = IMMUTABLE if served.pinned(version) else REVALIDATE
            response.make_conditional(environ, accept_ranges=True, complete_length=size)
        except RequestedRangeNotSatisfiable as exc:
            f.close()
            return _public(http_error_response(exc))
        except BaseException:
            f.close()
            raise
        return _public(response)


def _invalid_variant(variant: str) -> Response:
    return error_response(
        400,
        "invalid_variant",
        f"Unknown variant {variant!r}: leave it out for the original, or ask for "
        "variant=thumbnail.",
    )


def _public(response: Response) -> Response:
    for key, value in PUBLIC_HEADERS:
        response.headers[key] = value
    return response


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
    """WSGI middleware: ``GET|HEAD /i/{id}`` straight to the ``ImageProxy``; everything
    else to the wrapped (Flask) application."""

    def __init__(self, app: WSGIApplication, proxy: ImageProxy) -> None:
        self.app = app
        self.proxy = proxy

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        image_id = _image_id_of(environ)
        if image_id is None:
            return self.app(environ, start_response)
        return self.proxy(environ, start_response, image_id)


bp = Blueprint("proxy", __name__, url_prefix="/i")
EXTENSION_KEY: Final = "imageshelf.proxy"


@bp.route("/<image_id>", methods=["GET", "HEAD"])
def serve(image_id: str) -> Any:
    """The same handler, reached through Flask when the fast path is not installed."""
    proxy: ImageProxy = current_app.extensions[EXTENSION_KEY]
    return lambda environ, start_response: proxy(environ, start_response, image_id)


def _size_of(f: Any) -> int:
    """A file on disk, an object in a team library's store, or bytes in memory."""
    return opened_size(f)


def send_open_file(
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    f: Any,
    headers: Iterable[tuple[str, str]],
) -> Iterable[bytes]:
    """A 200 of an open file (closed here on HEAD or failure), streamed by the server's
    ``wsgi.file_wrapper``; ``Content-Length`` from the file itself."""
    try:
        size = _size_of(f)
        start_response("200 OK", [*headers, ("Content-Length", str(size))])
    except BaseException:
        f.close()
        raise
    if environ["REQUEST_METHOD"] == "HEAD":
        f.close()
        return []
    wrapper: Callable[..., Iterable[bytes]] = environ.get("wsgi.file_wrapper", FileWrapper)
    return wrapper(f, FILE_BLOCK)
