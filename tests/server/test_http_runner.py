"""``BackgroundServer``: binds in the caller's thread, port 0, port in use, clean stop
with requests in flight finishing."""

from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest
import requests

from imageshelf.app.library import Library, LibraryError
from imageshelf.server import BackgroundServer, CannotListen, PortInUse
from tests.conftest import image_bytes
from tests.server.http_helpers import AUTH, TOKEN


def test_port_zero_gives_a_real_port_and_base_url(library: Library) -> None:
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    try:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.running
        assert requests.get(server.base_url + "/v3/images", headers=AUTH, timeout=10).ok
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(server.base_url + "/v3/images", headers=AUTH, timeout=5)
    server.stop()  # twice is harmless


def test_ipv6_loopback(library: Library) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        server = BackgroundServer(library, host="::1", port=0, token=TOKEN).start()
    except CannotListen:
        pytest.skip("::1 is not configured here")
    try:
        assert server.base_url == f"http://[::1]:{server.port}"
        assert requests.get(server.base_url + "/v3/images", headers=AUTH, timeout=10).ok
    finally:
        server.stop()


def test_port_in_use_is_a_clear_library_error(library: Library) -> None:
    first = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    try:
        second = BackgroundServer(library, host="127.0.0.1", port=first.port, token=TOKEN)
        with pytest.raises(PortInUse) as caught:
            second.start()
        assert isinstance(caught.value, LibraryError)
        assert caught.value.code == "port_in_use"
        assert str(first.port) in caught.value.message
        assert "\n" not in caught.value.message
        assert not second.running
        # The first one is unharmed.
        assert requests.get(first.base_url + "/v3/images", headers=AUTH, timeout=10).ok
    finally:
        first.stop()


def test_an_address_that_is_not_ours_is_cannot_listen(library: Library) -> None:
    with pytest.raises(CannotListen):
        BackgroundServer(library, host="192.0.2.1", port=0, token=TOKEN).start()


def test_stop_lets_an_upload_in_flight_finish(library: Library) -> None:
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    content = image_bytes("PNG", (300, 300))
    boundary = "imageshelf-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="late.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/v3/images/folders", headers=AUTH)  # the connection is accepted
    assert conn.getresponse().read()
    conn.putrequest("POST", "/v3/images")
    conn.putheader("Authorization", AUTH["Authorization"])
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    conn.send(body[:100])  # the upload has begun ...
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(0.5)
    assert stopper.is_alive()  # ... so stop waits for it
    conn.send(body[100:])
    reply = conn.getresponse()
    assert reply.status == 201
    image_id = json.loads(reply.read())["id"]
    conn.close()
    stopper.join(30)
    assert not stopper.is_alive()
    assert library.original_path(image_id)[1].read_bytes() == content


def test_stop_does_not_wait_for_idle_keep_alive_connections(library: Library) -> None:
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    session = requests.Session()
    assert session.get(server.base_url + "/v3/images", headers=AUTH, timeout=10).ok
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(10)
    assert not stopper.is_alive()
    session.close()
