"""Uploads streamed straight into the library: the multipart file part is written into a
new file in the library's ``tmp/`` as werkzeug parses it, hashed and counted on the way,
and refused at the byte past the 10 MiB limit. The default (spool the part to a
temporary file or memory, then let the core copy it into ``tmp/`` while hashing) paid for
every byte twice."""

from __future__ import annotations

from typing import IO, Any

from flask import Request, current_app

from app.library import Library
from app.library.files import Incoming


class UploadRequest(Request):
    """Flask's request whose file parts are ``Incoming`` sinks in the library's ``tmp/``.

    Every sink it made and that was not finished (a refused or broken upload, a second
    file part, a request that failed half way) is removed when the request closes, which
    Flask does at the end of every request, whatever happened."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._incoming: list[Incoming] = []

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        library: Library = current_app.extensions["imageshelf"]
        incoming = library.receive()
        self._incoming.append(incoming)
        return incoming  # type: ignore[return-value]  # write/seek/close: all werkzeug uses

    def close(self) -> None:
        try:
            super().close()
        finally:
            for incoming in self._incoming:
                incoming.close()
            self._incoming.clear()
