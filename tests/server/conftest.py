"""Server fixtures: the Flask app over a real library, its test client, and the same
app served by waitress on a free loopback port (``BackgroundServer(port=0)``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer, create_app
from tests.server.http_helpers import TOKEN, Api, FlaskApi, HttpApi
from tests.server.serve_process import ServeProcess


@pytest.fixture
def flask_app(library: Library) -> Flask:
    return create_app(library, token=TOKEN)


@pytest.fixture
def live_server(library: Library) -> Iterator[BackgroundServer]:
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(params=["flask", "waitress"])
def api(request: pytest.FixtureRequest, library: Library) -> Iterator[Api]:
    """The API through the Flask test client, then through a real waitress server."""
    if request.param == "flask":
        yield FlaskApi(create_app(library, token=TOKEN).test_client())
        return
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    try:
        yield HttpApi(server.base_url)
    finally:
        server.stop()


@pytest.fixture
def processes() -> Iterator[list[ServeProcess]]:
    """``imageshelf serve`` children a test starts; any still running are killed after."""
    started: list[ServeProcess] = []
    yield started
    for proc in started:
        if proc.proc is not None and proc.proc.poll() is None:
            proc.kill()
