"""A real HTTP server on 127.0.0.1 that serves images (and ways of not serving them) for
the window's *Add from URL…* tests: ``/img/NAME`` a PNG, ``/jpeg/NAME`` a JPEG,
``/stall/NAME`` headers then silence until the test ends (``stalled`` is set once it is
waiting: a Cancel can then be pressed), ``/text`` an HTML page, ``/big`` a declared body
over the upload limit, anything else 404."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from imageshelf.app.library import rules
from tests.conftest import image_bytes


class ImageUpstream:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.stalled = threading.Event()
        self.stop = threading.Event()
        self.png = image_bytes("PNG", (48, 32), color=(10, 120, 200))
        self.jpeg = image_bytes("JPEG", (64, 48), color=(200, 90, 20))
        up = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, kind: str = "image/png") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                up.requests.append(self.path)
                if self.path.startswith("/img/"):
                    self._send(200, up.png)
                elif self.path.startswith("/jpeg/"):
                    self._send(200, up.jpeg, "image/jpeg")
                elif self.path.startswith("/stall/"):
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(up.png)))
                    self.end_headers()
                    self.wfile.write(up.png[:10])
                    self.wfile.flush()
                    up.stalled.set()
                    up.stop.wait(60)
                elif self.path == "/text":
                    self._send(200, b"<html>not an image</html>", "text/html")
                elif self.path == "/big":
                    self.send_response(200)
                    self.send_header("Content-Length", str(rules.MAX_UPLOAD_BYTES + 1))
                    self.end_headers()
                else:
                    self._send(404, b"")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None  # type: ignore[method-assign]  # hang-ups
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def running() -> Iterator[ImageUpstream]:
    """For a fixture: ``yield from running()``."""
    up = ImageUpstream()
    up.thread.start()
    try:
        yield up
    finally:
        up.close()
