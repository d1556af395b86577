"""``imageshelf serve --access-log``: one line per request at info level on the
``imageshelf.access`` logger (method, path, status, bytes, milliseconds). Off unless
asked: a busy server would otherwise fill the log with lines nobody reads."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

log = logging.getLogger("imageshelf.access")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class AccessLog:
    """WSGI middleware; the line is written when the response has been sent (or the
    client went away), so its byte count is what was really sent."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        started = time.perf_counter()
        status: list[str] = []

        def recording_start(code: str, headers: Any, exc_info: Any = None) -> Any:
            status[:] = [code]
            return start_response(code, headers, exc_info)

        sent = 0
        body = self.app(environ, recording_start)
        try:
            for chunk in body:
                sent += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            query = environ.get("QUERY_STRING")
            path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
            log.info(
                "%s %s %s %s %d bytes %.1f ms",
                environ.get("REMOTE_ADDR", "-"),
                environ.get("REQUEST_METHOD", "-"),
                path,
                status[0].split(" ", 1)[0] if status else "-",
                sent,
                (time.perf_counter() - started) * 1000,
            )
