"""``RememberedLane``: the outermost WSGI layer, answering the commonest proxy requests —
``GET``/``HEAD /i/{id}`` and ``/i/{id}?variant=thumbnail`` of an image whose file the
proxy already remembers, plain or with the exact ``If-None-Match`` it was given — before
the layers below it (the host check, the decode-budget scope, the fast path, Flask).

A page of a few hundred thumbnails revalidated by a browser is hundreds of these, and
each layer is a Python call, dict reads and, for the decode scope, two context-variable
writes: together more than the answer itself (``docs/performance.md``, 2b). None of them
changes these answers: the host is checked here the same way (anything else goes down the
ordinary way and gets its ``421``), and a remembered answer never decodes (the file is
sent as stored). Everything else — a first request, a ``Range``, a query, a transform, a
file that has gone — goes down the ordinary way, which answers it exactly as before."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from .guards import HostCheck
from .proxy import _FULL_MACHINERY, PREFIX, THUMBNAIL, ImageProxy, send_open_file

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_THUMBNAIL_QUERY: Final = f"variant={THUMBNAIL}"
_METHODS: Final = frozenset(("GET", "HEAD"))


class RememberedLane:
    def __init__(
        self, app: WSGIApplication, proxy: ImageProxy, hosts: HostCheck | None = None
    ) -> None:
        self.app = app
        self.proxy = proxy
        self.hosts = hosts  # None: any Host (the server listens beyond loopback)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer = self._answer(environ, start_response)
        return self.app(environ, start_response) if answer is None else answer

    def _answer(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes] | None:
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX) or environ.get("REQUEST_METHOD") not in _METHODS:
            return None
        query = environ.get("QUERY_STRING", "")
        if query == "":
            thumbnail = False
        elif query == _THUMBNAIL_QUERY:
            thumbnail = True
        else:
            return None
        image_id = path[len(PREFIX) :]
        if not image_id or "/" in image_id or "." in image_id:
            return None  # not an id, or a transform (/i/{id}.webp)
        if self.hosts is not None and not self.hosts.allows(environ.get("HTTP_HOST")):
            return None
        if not environ.keys().isdisjoint(_FULL_MACHINERY):
            return None
        served = self.proxy.files.remembered(image_id, thumbnail)
        if served is None:
            return None
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            if if_none_match != served.etag:
                return None  # a list, a weak tag, another version: werkzeug decides
            start_response("304 Not Modified", list(served.not_modified_headers))
            return []
        try:
            f = served.open()
        except Exception:  # the ordinary way opens again, and answers what went wrong
            return None  # gone (moved, thumbnail cache cleared) or unreadable
        return send_open_file(environ, start_response, f, served.headers)
