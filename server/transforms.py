"""Transforms on the public proxy: ``GET|HEAD /i/{id}.{ext}`` and ``/i/{id}?w=&h=&crop=
&fit=&q=`` (the contract's "Transforms on the proxy").

``ImageProxy`` hands a request here when its path has an extension or its query has any
parameter but ``variant``. The core checks the parameters (``transform_spec``) and makes
or finds the result (``Library.transforms``); this module only speaks HTTP, with the
headers of originals: type, length, immutable caching, CORS, a strong ETag (derived from
the original's hash and the canonical parameters, so a 304 needs no transform), Range
and HEAD. A request that resolves to the original itself (its own extension, nothing
else) is handed back to the proxy: same bytes, same ETag."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final
from urllib.parse import parse_qsl, urlencode

from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import is_resource_modified, parse_etags, quote_etag
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from imageshelf.app.library import LibraryError, rules
from imageshelf.app.library.storage import opened_size
from imageshelf.app.library.transform_spec import TransformSpec, parse_request, resolve

from . import proxy as _proxy
from .errors import (
    error_response,
    http_error_response,
    internal_error_response,
    library_error_response,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from imageshelf.app.library import Library

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Resolved:
    """What a request for one original resolved to: ``spec`` is ``None`` for the original
    itself; else the result's ETag (quoted), cache file and prebuilt headers."""

    spec: TransformSpec | None
    etag: str = ""
    cache_file: str = ""
    headers: tuple[tuple[str, str], ...] = ()  # those of a 200 but Content-Length
    validators: tuple[tuple[str, str], ...] = ()
    # The cache file's open for the socket loop (``None``: the store's may wait).
    open_at_once: Callable[[], BinaryIO] | None = None


_ORIGINAL: Final = _Resolved(None)
MAX_REMEMBERED: Final = 20_000


class TransformProxy:
    def __init__(self, library: Library, image_proxy: _proxy.ImageProxy) -> None:
        self.library = library
        self.image_proxy = image_proxy
        # (original's quoted hash, ext, query string) → _Resolved: a request for a result
        # already made costs dictionary lookups, not parsing and hashing again.
        self._resolved: dict[tuple[str, str | None, str], _Resolved] = {}

    @staticmethod
    def wants(name: str, query_string: str) -> bool:
        """Whether ``/i/{name}?{query_string}`` is for this handler: an extension, or
        any parameter but ``variant`` (unknown ones are refused here)."""
        if "." in name:
            return True
        if not query_string:
            return False
        return any(key not in rules.LINK_PARAMETERS for key, _ in parse_qsl(query_string, True))

    def _resolve(self, ext: str | None, query: str, served: _proxy.ServedFile) -> _Resolved:
        key = (served.source_sha256, ext, query)
        found = self._resolved.get(key)
        if found is not None:
            return found
        request = parse_request(ext, parse_qsl(query, keep_blank_values=True))
        spec = resolve(request, rules.FORMAT_BY_CONTENT_TYPE[served.content_type])
        if spec is None:
            found = _ORIGINAL
        else:
            sha256 = served.source_sha256
            etag = quote_etag(spec.etag(sha256))
            # As for originals: immutable only under the original's own version (``v``),
            # since the bytes behind an id can change (alt text written into the file).
            pinned = served.pinned(request.version)
            validators = _validators(etag, _proxy.IMMUTABLE if pinned else _proxy.REVALIDATE)
            cache_file = self.library.transforms.cache_file(sha256, spec)
            found = _Resolved(
                spec,
                etag,
                cache_file,
                (
                    ("Content-Type", spec.output.content_type),
                    ("Accept-Ranges", "bytes"),
                    *validators,
                ),
                validators,
                self.library.transforms.opener_at_once(cache_file),
            )
        if len(self._resolved) >= MAX_REMEMBERED:
            self._resolved.clear()
        self._resolved[key] = found
        return found

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse, name: str
    ) -> Iterable[bytes]:
        image_id, dot, ext = name.partition(".")
        try:
            served = self.image_proxy.files.lookup(image_id, False)  # 404, 410
            resolved = self._resolve(ext if dot else None, environ.get("QUERY_STRING", ""), served)
            if resolved.spec is None:  # exactly the original
                # Only ``v`` carries over (it pins the original as it pins a transform).
                kept = [(k, v) for k, v in parse_qsl(environ.get("QUERY_STRING", "")) if k == "v"]
                original = {
                    **environ,
                    "QUERY_STRING": urlencode(kept),
                    "PATH_INFO": _proxy.PREFIX + image_id,
                }
                return self.image_proxy(original, start_response, image_id)
            full = not environ.keys().isdisjoint(_proxy._FULL_MACHINERY)
            if full:
                refused = _precondition_failed(environ, resolved.etag)
                if refused is not None:
                    return _proxy._public(refused)(environ, start_response)
            if (
                not full
                and "HTTP_IF_NONE_MATCH" in environ
                and not is_resource_modified(environ, etag=resolved.etag)
            ):
                start_response("304 Not Modified", list(resolved.validators))
                return []
            f = self.library.transforms.open_cached(resolved.cache_file)
            if f is None:
                sha256 = served.source_sha256
                f = self.library.transforms.result(
                    sha256, lambda: self._source(image_id), resolved.spec
                ).file
        except LibraryError as exc:
            return _proxy._public(library_error_response(exc))(environ, start_response)
        except Exception:
            log.exception("Transforming %s failed", name)
            return _proxy._public(internal_error_response())(environ, start_response)
        if full:
            ctype = resolved.spec.output.content_type
            cache = dict(resolved.validators)["Cache-Control"]
            return self._conditional(environ, f, ctype, resolved.etag, cache)(
                environ, start_response
            )
        return _proxy.send_open_file(environ, start_response, f, resolved.headers)

    def at_once(
        self, environ: WSGIEnvironment, name: str, query: str
    ) -> tuple[tuple[tuple[str, str], ...], BinaryIO | None] | None:
        """For the server's socket loop (``proxy_lane``): the headers and the open file of
        a result already made (``None`` for the file: a ``304``), when this request's
        answer is exactly that — its original remembered, its parameters resolved
        before, no Range or precondition but the ``If-None-Match`` it was given, the
        result in a local cache; else ``None`` and ``__call__`` answers it."""
        image_id, dot, ext = name.partition(".")
        served = self.image_proxy.files.remembered(image_id, False)
        if served is None:
            return None
        resolved = self._resolved.get((served.source_sha256, ext if dot else None, query))
        if resolved is None or resolved.spec is None:
            return None
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            return (resolved.validators, None) if if_none_match == resolved.etag else None
        opener = resolved.open_at_once
        if opener is None:
            return None
        f = self.library.transforms.open_cached_at_once(resolved.cache_file, opener)
        return None if f is None else (resolved.headers, f)

    def _source(self, image_id: str) -> Path:
        """The record's path, not the remembered one: a move may have happened."""
        return Path(self.library.original_path(image_id)[1])

    @staticmethod
    def _conditional(
        environ: WSGIEnvironment, f: Any, content_type: str, etag: str, cache: str
    ) -> Response:
        """Range and preconditions through werkzeug, as for originals."""
        try:
            size = _size(f)
            response = Response(
                wrap_file(environ, f, _proxy.FILE_BLOCK),
                direct_passthrough=True,
                content_type=content_type,
            )
            response.content_length = size
            response.set_etag(etag.strip('"'))
            response.headers["Cache-Control"] = cache
            response.make_conditional(environ, accept_ranges=True, complete_length=size)
        except RequestedRangeNotSatisfiable as exc:
            f.close()
            return _proxy._public(http_error_response(exc))
        except BaseException:
            f.close()
            raise
        return _proxy._public(response)


def _precondition_failed(environ: WSGIEnvironment, etag: str) -> Response | None:
    """``If-Match`` decided as for originals (RFC 9110 §13.2.2): ``*`` or the result's
    ETag passes, anything else is a JSON 412; the header is then taken out of ``environ``
    (with ``If-Unmodified-Since``, ignored: no ``Last-Modified`` is sent), so werkzeug's
    ``make_conditional`` only sees what it gets right."""
    if_match = environ.pop("HTTP_IF_MATCH", None)
    environ.pop("HTTP_IF_UNMODIFIED_SINCE", None)
    if if_match is None:
        return None
    etags = parse_etags(if_match)
    if etags.star_tag or etags.contains(etag.strip('"')):
        return None
    return error_response(
        412,
        "precondition_failed",
        "If-Match names none of this image's ETags: it has changed or is another image.",
        {"ETag": etag},
    )


def _validators(etag: str, cache: str) -> tuple[tuple[str, str], ...]:
    return (("ETag", etag), ("Cache-Control", cache), *_proxy.PUBLIC_HEADERS)


def _size(f: Any) -> int:
    return opened_size(f)
