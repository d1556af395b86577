"""Server fixtures: the Flask app over a real library, its test client, and the same
app served by waitress on a free loopback port (``BackgroundServer(port=0)``).

The library is a folder library, or — in a module that sets ``BOTH_BACKENDS = True`` —
each test runs twice, ``backend`` "folder" and "team": a team library on a real
PostgreSQL (tests/pg_server.py) and a bucket on a real S3-compatible server on loopback
(tests/s3_server.py: moto's standalone server). The contract is one, so its tests are
too. Missing server binaries make the team runs FAIL (with the
words to install them), never skip. ``IMAGESHELF_TEST_BACKENDS=team`` runs every module
of this folder on both (to find out which ones hold on a team library)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from imageshelf.app.library import Library, Storage, storage_from_url
from imageshelf.server import BackgroundServer, create_app
from tests.server.http_helpers import TOKEN, Api, FlaskApi, HttpApi
from tests.server.serve_process import ServeProcess

BACKENDS = ("folder", "team")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "folder_only: in a BOTH_BACKENDS module, a test of the folder's own parts"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    every = os.environ.get("IMAGESHELF_TEST_BACKENDS") == "team"
    if not (every or getattr(metafunc.module, "BOTH_BACKENDS", False)):
        return
    if metafunc.definition.get_closest_marker("folder_only") is None:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "folder"))


@pytest.fixture
def team_storage(s3_bucket: str, tmp_path: Path) -> Storage:
    """A team library's storage: a new bucket, addressed as a person writes it."""
    return storage_from_url(f"s3://{s3_bucket}/team?path_style=1", tmp_path / "staging")


@pytest.fixture
def library(library_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Library]:
    """The folder library (``library_path``), or on ``backend`` "team" a team library
    with its own PostgreSQL database."""
    if backend == "team":
        database = request.getfixturevalue("pg_database")
        lib = Library.open_team(database, request.getfixturevalue("team_storage"))
    else:
        lib = Library.open(library_path)
    yield lib
    lib.close()


@pytest.fixture
def open_library(
    library_path: Path, backend: str, request: pytest.FixtureRequest
) -> Callable[[], Library]:
    """Opens the ``backend``'s library anew, as a restart or another process would: the
    same folder, or the same database and bucket (for a test that does not take
    ``library``: a folder library is one process's at a time)."""
    if backend != "team":
        return lambda: Library.open(library_path)
    database = request.getfixturevalue("pg_database")
    bucket = request.getfixturevalue("s3_bucket")
    staging = request.getfixturevalue("tmp_path") / "staging"
    return lambda: Library.open_team(
        database, storage_from_url(f"s3://{bucket}/team?path_style=1", staging)
    )


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
