"""An S3-compatible server on loopback for the tests: moto's standalone server
(``python -m moto.server``), started once per test session in a subprocess and stopped at
its end, and a fresh bucket per test.

moto stands in for a real object store because no production S3 server (MinIO, Garage,
SeaweedFS) installs from the package registries this project uses (docs/architecture.md,
"Team library storage"); the code keeps to the S3 API those servers and AWS share. A
test that needs it and finds moto missing FAILS (``moto[server]`` is in the test extra):
it never skips.

Use: ``s3_server`` (session: the endpoint URL, with ``AWS_*`` set in this process's
environment so every client the code makes finds it) and ``s3_bucket`` (a new bucket)."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import pytest

_buckets = itertools.count(1)
START_TIMEOUT_S = 30.0

# The environment every S3 client in the test process (and its children) reads.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "imageshelf-test",
    "AWS_SECRET_ACCESS_KEY": "imageshelf-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # Nothing of the machine's own AWS set-up may leak into a test.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    process: subprocess.Popen[bytes]
    drainer: threading.Thread

    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def client(self) -> object:
        """One client per server, shared (boto3's clients are thread-safe): a new
        session loads botocore's service models again, about a second per team test."""
        made = _clients.get(self.endpoint)
        if made is None:
            import boto3

            made = _clients[self.endpoint] = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint,
                region_name="us-east-1",
                aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            )
        return made


_clients: dict[str, object] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start() -> S3Server:
    """moto's server on a free loopback port, answering before this returns."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    endpoint = f"http://127.0.0.1:{port}"
    # The server says it listens on its stderr (werkzeug's "Running on ..."): that line
    # is the signal waited for; then a thread drains the pipe (request logs) for good.
    assert process.stderr is not None
    seen: list[str] = []
    ready = threading.Event()

    def drain(stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode(errors="replace")
            if not ready.is_set():
                seen.append(line)
                if "Running on" in line:
                    ready.set()

    drainer = threading.Thread(target=drain, args=(process.stderr,), daemon=True)
    drainer.start()
    if not ready.wait(START_TIMEOUT_S):
        process.kill()
        process.wait()
        raise RuntimeError(f"moto's server did not start: {''.join(seen)[-2000:]}")
    return S3Server(endpoint, process, drainer)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = start()
    saved = {k: os.environ.get(k) for k in [*CREDENTIALS, "AWS_ENDPOINT_URL"]}
    os.environ.update(server.env())
    try:
        yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
        server.drainer.join(timeout=10)  # the pipe's end reached: then closed
        if server.process.stderr is not None:
            server.process.stderr.close()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new, empty bucket for one test."""
    name = f"test-{os.getpid()}-{next(_buckets)}"
    s3_server.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name
