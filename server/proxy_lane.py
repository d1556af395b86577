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
file that has gone — goes down the ordinary way, which answers it exactly as before.

**On the socket loop.** The same answers, and those of a transform result already made,
need nothing that may wait: dictionary lookups and, for a 200, a local file's ``open``
(the file is then sent by waitress's loop thread anyway). So the server's loop thread
asks ``prepare`` of each GET/HEAD under ``/i/`` it has just read, and where the answer is
ready at once, runs the request itself rather than hand it to a thread of the pool
(``connections.BudgetedChannel.answer_here``): the hand-off — a pool thread woken, then
the loop woken again by it — was most of a quiet request's time on a busy machine
(``docs/performance.md``, 7c). ``prepare`` leaves its answer in the request's
environment; the request then runs through the same WSGI stack, and this layer sends
that answer. Anything ``prepare`` is not sure of goes to the pool as before."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from .guards import HostCheck
from .proxy import _FULL_MACHINERY, PREFIX, THUMBNAIL, ImageProxy, ServedFile, send_open_file

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

_THUMBNAIL_QUERY: Final = f"variant={THUMBNAIL}"
_METHODS: Final = frozenset(("GET", "HEAD"))
# Where ``prepare`` leaves the answer it made on the loop thread.
READY_KEY: Final = "imageshelf.ready_answer"


@dataclass(frozen=True, slots=True)
class _Ready:
    """An answer made on the loop thread: a 200 of an open file, or a 304 (no file)."""

    headers: tuple[tuple[str, str], ...]
    file: BinaryIO | None

    def send(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.file is None:
            start_response("304 Not Modified", list(self.headers))
            return []
        return send_open_file(environ, start_response, self.file, self.headers)


class RememberedLane:
    def __init__(
        self, app: WSGIApplication, proxy: ImageProxy, hosts: HostCheck | None = None
    ) -> None:
        self.app = app
        self.proxy = proxy
        self.hosts = hosts  # None: any Host (the server listens beyond loopback)
        self.answered_on_loop = 0  # since start (tests, benchmarks); the loop thread's

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        ready: _Ready | None = environ.pop(READY_KEY, None)
        if ready is not None:
            self.answered_on_loop += 1
            return ready.send(environ, start_response)
        answer = self._answer(environ, start_response)
        return self.app(environ, start_response) if answer is None else answer

    # --- on the server's socket loop (connections.LoopAnswers) ---------------------------

    @staticmethod
    def may_answer(method: str, path: str) -> bool:
        """A first look, before the request's environment is made."""
        return method in _METHODS and path.startswith(PREFIX)

    def prepare(self, environ: WSGIEnvironment) -> bool:
        """Whether this request's answer is ready at once; if so it is in ``environ``."""
        try:
            ready = self._ready(environ)
        except Exception:  # the ordinary way meets the same trouble and answers it
            log.debug("Left to the pool: %s", environ.get("PATH_INFO"), exc_info=True)
            return False
        if ready is None:
            return False
        environ[READY_KEY] = ready
        return True

    @staticmethod
    def release(environ: dict[str, Any]) -> None:
        """After the request ran: a prepared answer it never sent (the client had gone)."""
        ready: _Ready | None = environ.pop(READY_KEY, None)
        if ready is not None and ready.file is not None:
            ready.file.close()

    def _ready(self, environ: WSGIEnvironment) -> _Ready | None:
        if environ.get("REQUEST_METHOD") not in _METHODS:
            return None
        path: str = environ.get("PATH_INFO", "")
        name = path[len(PREFIX) :]
        if not path.startswith(PREFIX) or not name or "/" in name:
            return None
        if self.hosts is not None and not self.hosts.allows(environ.get("HTTP_HOST")):
            return None
        if not environ.keys().isdisjoint(_FULL_MACHINERY):
            return None
        query: str = environ.get("QUERY_STRING", "")
        if "." not in name and query in ("", _THUMBNAIL_QUERY):
            served = self.proxy.files.remembered(name, query == _THUMBNAIL_QUERY)
            return None if served is None else self._ready_file(environ, served)
        if not self.proxy.transforms.wants(name, query):
            return None  # ``v=``, a cache-buster, an unknown variant: the ordinary way
        found = self.proxy.transforms.at_once(environ, name, query)
        return None if found is None else _Ready(*found)

    @staticmethod
    def _ready_file(environ: WSGIEnvironment, served: ServedFile) -> _Ready | None:
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            if if_none_match != served.etag:
                return None  # werkzeug decides
            return _Ready(served.not_modified_headers, None)
        if served.open_at_once is None:
            return None
        return _Ready(served.headers, served.open_at_once())

    # --- on a thread of the pool ---------------------------------------------------------

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
