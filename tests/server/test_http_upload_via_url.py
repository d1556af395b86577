"""The contract's "Upload from a URL" through the Flask client and a live waitress
server, against a real HTTP server on 127.0.0.1: allowed only through
IMAGESHELF_FETCH_ALLOW; every loopback/private spelling refused without it; redirects,
upstream errors, dribbling and oversize bodies; nothing left behind on any refusal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from imageshelf.app.library import Library, rules
from imageshelf.app.library.url_fetch import FetchLimits
from imageshelf.server import BackgroundServer
from imageshelf.server.url_api import LIMITS_CONFIG
from tests.conftest import image_bytes
from tests.server.http_helpers import TOKEN, Api, HttpApi

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

KITE = image_bytes("PNG", (30, 20), color=(10, 120, 200))


class Upstream:
    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.stop = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, **headers: str) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k.replace("_", "-"), v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                upstream.hosts.append(self.headers["Host"])
                path = self.path
                if path.startswith("/img/"):
                    self._send(200, KITE, Content_Type="image/png")
                elif path.startswith("/r/"):
                    n = int(path.split("/")[2])
                    to = f"/r/{n - 1}" if n > 1 else "/img/hop.png"
                    self._send(302, b"", Location=to)
                elif path == "/to-file":
                    self._send(302, b"", Location="file:///etc/passwd")
                elif path.startswith("/to/"):
                    self._send(302, b"", Location=path.removeprefix("/to/"))
                elif path.startswith("/status/"):
                    self._send(int(path.split("/")[2]), b"nope")
                elif path == "/text":
                    self._send(200, b"<html>not an image</html>", Content_Type="text/html")
                elif path == "/declared-big":
                    self.send_response(200)
                    self.send_header("Content-Length", str(rules.MAX_UPLOAD_BYTES + 1))
                    self.end_headers()
                    self.wfile.write(KITE)
                elif path == "/chunked-big":
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = b"\0" * 1024 * 1024
                    try:
                        for _ in range(12):
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:
                        pass  # the fetcher hung up at the limit, as it should
                elif path == "/dribble":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(KITE)))
                    self.end_headers()
                    try:
                        for byte in KITE:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            if upstream.stop.wait(0.2):
                                return
                    except OSError:
                        pass
                else:
                    self._send(404, b"")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None  # type: ignore[method-assign]  # hang-ups
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream()
    up.thread.start()
    yield up
    up.stop.set()
    up.server.shutdown()
    up.server.server_close()


@pytest.fixture
def allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(rules.FETCH_ALLOW_ENV, " 127.0.0.1 , localhost")


def _post(api: Api, body: object) -> object:
    return api.request("POST", "/v3/images/upload_via_url", json_body=body)


def _nothing_left(api: Api, library: Library) -> None:
    assert api.get("/v3/images").json()["total"] == 0
    assert list(library.tmp_dir.iterdir()) == []


def test_an_allowed_url_is_fetched_and_stored(
    api: Api, library: Library, upstream: Upstream, allowed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy in the environment that would refuse everything: the fetch never uses it
    # (this test's own client is told to ignore it).
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    if isinstance(api, HttpApi):
        api.session.trust_env = False
    reply = _post(api, {"url": upstream.url("/img/kite%20one.png"), "alt_text": "A kite"})
    assert reply.status == 201, reply.body  # type: ignore[attr-defined]
    body = reply.json()  # type: ignore[attr-defined]
    assert body["original_filename"] == "kite one.png" and body["alt_text"] == "A kite"
    assert body["content_type"] == "image/png" and body["size"] == len(KITE)
    assert api.get(f"/i/{body['id']}").body == KITE
    assert upstream.hosts[-1] == f"127.0.0.1:{upstream.port}"
    named = _post(api, {"url": upstream.url("/img/x.png"), "file_name": "given.png"})
    assert named.json()["original_filename"] == "given.png"  # type: ignore[attr-defined]
    # Three redirects are followed; the name is the one of the URL asked for.
    hops = _post(api, {"url": upstream.url("/r/3"), "folder": "web"})
    assert hops.status == 201 and hops.json()["original_filename"] == "3"  # type: ignore[attr-defined]
    by_name = _post(api, {"url": upstream.url("/img/named.png", host="localhost")})
    assert by_name.status == 201  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "[::ffff:127.0.0.1]",
        "[::1]",
        "localhost",
        "0.0.0.0",
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "[2002:7f00:1::]",
        "[64:ff9b::7f00:1]",
        "[fe80::1]",
        "[fc00::1]",
    ],
)
def test_local_addresses_in_every_spelling_are_refused(
    api: Api, library: Library, upstream: Upstream, host: str
) -> None:
    reply = _post(api, {"url": f"http://{host}:{upstream.port}/img/kite.png"})
    assert (reply.status, reply.error_code) == (400, "url_not_allowed")  # type: ignore[attr-defined]
    assert upstream.hosts == []  # never connected
    _nothing_left(api, library)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "http://user:pw@example.com/a.png",
        "http://[::1/a.png",
        "http://example.com:99999/a.png",
        "not a url",
        "",
        "http://example.com/" + "a" * 2048,
        5,
    ],
)
def test_bad_urls_are_invalid_url(api: Api, library: Library, url: object) -> None:
    reply = _post(api, {"url": url})
    assert (reply.status, reply.error_code) == (400, "invalid_url")  # type: ignore[attr-defined]
    _nothing_left(api, library)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/r/4", 502, "upstream_error"),
        ("/to-file", 400, "invalid_url"),
        ("/status/404", 502, "upstream_error"),
        ("/status/500", 502, "upstream_error"),
        ("/text", 400, "unsupported_format"),
        ("/declared-big", 413, "too_large"),
        ("/chunked-big", 413, "too_large"),
    ],
)
def test_upstream_failures(
    api: Api,
    library: Library,
    upstream: Upstream,
    allowed: None,
    path: str,
    status: int,
    code: str,
) -> None:
    reply = _post(api, {"url": upstream.url(path)})
    assert (reply.status, reply.error_code) == (status, code)  # type: ignore[attr-defined]
    _nothing_left(api, library)


def test_a_redirect_to_a_refused_address_is_refused(
    api: Api, library: Library, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(rules.FETCH_ALLOW_ENV, "localhost")  # the name, not the address
    first = upstream.url("/to/" + upstream.url("/img/a.png"), host="localhost")
    reply = _post(api, {"url": first})
    assert (reply.status, reply.error_code) == (400, "url_not_allowed")  # type: ignore[attr-defined]
    _nothing_left(api, library)


def test_a_dribbling_server_times_out(library: Library, upstream: Upstream, allowed: None) -> None:
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN)
    server.app.config[LIMITS_CONFIG] = FetchLimits(total_s=1.0)
    server.start()
    try:
        api = HttpApi(server.base_url)
        reply = _post(api, {"url": upstream.url("/dribble")})
        assert (reply.status, reply.error_code) == (504, "upstream_timeout")  # type: ignore[attr-defined]
        _nothing_left(api, library)
    finally:
        server.stop()


def test_malformed_bodies_are_400(api: Api) -> None:
    for body in ([], {"url": "http://example.com/a.png", "custom": 1}, {}):
        reply = _post(api, body)
        assert reply.status == 400  # type: ignore[attr-defined]
