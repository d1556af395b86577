"""The servers the HTTP benchmarks load, each in a child process of its own (so the load
generator and the server do not share a Python interpreter, and the server's RSS can be
read from ``/proc``), always on 127.0.0.1.

    python -m benchmarks.servers app LIBRARY_DIR
    python -m benchmarks.servers bare-file FILE
    python -m benchmarks.servers bare-upload DIR
    python -m benchmarks.servers bare-inspect DIR
    python -m benchmarks.servers team DATABASE_URL STORAGE_DIR

Each prints ``PORT <n>`` once it listens and serves until its stdin closes.

The bare servers are the baselines of targets 2 and 3: the least a Python server can do
for the same request, on the *same* waitress settings as Imageshelf's own runner (threads,
receive buffer, in-memory body limit), so the ratio measures what our code adds."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from flask import Flask, jsonify, request

TOKEN = "benchmark-token"
ALL_INTERFACES_REFUSED = "127.0.0.1"  # loopback only, always


def _waitress_settings() -> dict[str, Any]:
    """Exactly the adjustments (threads, buffers, limits, look-ahead) of Imageshelf's runner."""
    from imageshelf.server import runner
    from imageshelf.server.connections import ConnectionLimits

    return runner.waitress_settings(ConnectionLimits())


def bare_file_app(path: Path) -> Any:
    """A bare WSGI callable serving one file with ``wsgi.file_wrapper``, answering 304 to
    a matching ``If-None-Match``: the floor for ``/i/{id}``. Its answers carry the same
    headers as ours (the contract's validators, caching and public headers): waitress
    formats each header in Python, ≈ 2.5 µs apiece, so a bare answer with fewer would
    measure the contract's headers as our overhead."""
    from imageshelf.server.proxy import PUBLIC_HEADERS, REVALIDATE

    data = path.read_bytes()
    etag = '"' + hashlib.sha256(data).hexdigest() + '"'
    length = str(len(data))
    validators = [("ETag", etag), ("Cache-Control", REVALIDATE), *PUBLIC_HEADERS]
    ok = [("Content-Type", "image/jpeg"), ("Accept-Ranges", "bytes"), *validators]

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            start_response("304 Not Modified", list(validators))
            return []
        start_response("200 OK", [*ok, ("Content-Length", length)])
        return environ["wsgi.file_wrapper"](open(path, "rb"), 64 * 1024)

    return app


def _write_synced(stream: IO[bytes], out: IO[bytes]) -> None:
    """The upload's bytes into ``out``, on the disk before the answer (as ours are)."""
    while chunk := stream.read(1024 * 1024):
        out.write(chunk)
    out.flush()
    os.fsync(out.fileno())


def bare_upload_app(directory: Path) -> Flask:
    """A bare Flask multipart endpoint that only writes and fsyncs the file: the floor
    for ``POST /v3/images``."""
    app = Flask("bare-upload")

    @app.post("/upload")
    def upload() -> Any:
        part = request.files["file"]
        dest = directory / uuid.uuid4().hex
        with open(dest, "wb") as out:
            _write_synced(part.stream, out)
        return jsonify({"name": dest.name}), 201

    return app


def bare_inspect_app(directory: Path) -> Flask:
    """The bare upload endpoint plus the work the contract requires of every upload: one
    complete decode that validates the image and makes its thumbnail
    (``imaging.inspect``). Its CPU per request, measured in its own process under the
    same load as ours, is the least any implementation of ``POST /v3/images`` needs."""
    from imageshelf.app.library import imaging

    app = bare_upload_app(directory)

    @app.post("/upload-inspect")
    def upload_inspect() -> Any:
        part = request.files["file"]
        dest = directory / uuid.uuid4().hex
        with open(dest, "w+b") as out:
            _write_synced(part.stream, out)
            info = imaging.inspect(out)
        return jsonify({"name": dest.name, "thumbnail": len(info.thumbnail)}), 201

    return app


def _serve_bare(app: Any) -> None:
    """``app`` on waitress exactly as Imageshelf's runner serves: the same server class
    (its connection handling, e.g. keep-alive after a 304), threads and buffers."""
    from waitress.adjustments import Adjustments
    from waitress.server import TcpWSGIServer
    from waitress.task import ThreadedTaskDispatcher

    from imageshelf.server import event_loop, runner

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    settings = _waitress_settings()
    adj = Adjustments(
        host=ALL_INTERFACES_REFUSED,
        port="0",
        ident="bare",
        server_name=ALL_INTERFACES_REFUSED,
        **settings,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(settings["threads"])
    server_class = getattr(runner, "_Server", TcpWSGIServer)  # its channels and tasks
    socket_map = event_loop.WatchedMap()  # and its loop
    server = server_class(app, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])
    print(f"PORT {server.effective_port}", flush=True)
    threading.Thread(target=event_loop.loop, args=(socket_map,), daemon=True).start()
    sys.stdin.read()  # until the parent closes our stdin
    os._exit(0)


def _serve_app(library_dir: Path) -> None:
    from imageshelf.app.library import Library
    from imageshelf.server.runner import BackgroundServer

    lib = Library.open(library_dir)
    srv = BackgroundServer(lib, host=ALL_INTERFACES_REFUSED, port=0, token=TOKEN).start()
    print(f"PORT {srv.port}", flush=True)
    sys.stdin.read()
    srv.stop(timeout=5)
    lib.close()
    os._exit(0)


def _serve_team(database_url: str, storage_dir: Path) -> None:
    """A team library (PostgreSQL at ``database_url``, originals in ``storage_dir``)."""
    from imageshelf.app.library import Library
    from imageshelf.server.runner import BackgroundServer

    from .postgres import folder_storage

    lib = Library.open_team(database_url, folder_storage(storage_dir))
    srv = BackgroundServer(lib, host=ALL_INTERFACES_REFUSED, port=0, token=TOKEN).start()
    print(f"PORT {srv.port}", flush=True)
    sys.stdin.read()
    srv.stop(timeout=5)
    lib.close()
    os._exit(0)


def main(argv: list[str]) -> None:
    kind, arg = argv[0], Path(argv[1])
    if kind == "team":
        _serve_team(argv[1], Path(argv[2]))
    elif kind == "app":
        _serve_app(arg)
    elif kind == "bare-file":
        _serve_bare(bare_file_app(arg))
    elif kind == "bare-upload":
        _serve_bare(bare_upload_app(arg))
    elif kind == "bare-inspect":
        _serve_bare(bare_inspect_app(arg))
    else:
        raise SystemExit(f"unknown server kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
