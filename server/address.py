"""``.imageshelf/server.json``: where the process holding a library serves its API, so
the command line can go through that process (which holds the library's lock) instead
of opening the library itself.

Written atomically when a server starts, removed when it stops; a nonce tells a server's
own file from a newer one, so stopping an old server never removes its successor's."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any, Final

from imageshelf.app.library.files import write_atomic

ADDRESS_FILE: Final = "server.json"


def connectable_url(host: str, port: int) -> str:
    """A URL this machine can connect to: a server listening on every interface is
    reached on loopback."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def publish(meta_dir: Path, url: str) -> str | None:
    """Records ``url``; returns the nonce to withdraw it with (``None`` if the file
    could not be written: the command line then says the API is unknown)."""
    nonce = secrets.token_hex(8)
    body = {"url": url, "pid": os.getpid(), "nonce": nonce}
    try:
        write_atomic(Path(meta_dir) / ADDRESS_FILE, json.dumps(body).encode())
    except OSError:
        return None
    return nonce


def withdraw(meta_dir: Path, nonce: str | None) -> None:
    if nonce is None:
        return
    current = read(meta_dir)
    if current is not None and current.get("nonce") == nonce:
        with contextlib.suppress(OSError):
            (Path(meta_dir) / ADDRESS_FILE).unlink()


def read(meta_dir: Path) -> dict[str, Any] | None:
    try:
        body = json.loads((Path(meta_dir) / ADDRESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("url"), str):
        return None
    return body


def remove_stale(meta_dir: Path) -> None:
    """For a process that holds the lock and serves nothing: a file left by a killed
    server names an address nobody answers for this library."""
    with contextlib.suppress(OSError):
        (Path(meta_dir) / ADDRESS_FILE).unlink()
