"""``imageshelf keys create|list|revoke`` on a free library and on one a server holds
(in this process, and ``imageshelf serve`` as a real child process): a key made or
revoked by the command works, or stops working, at the server's next request."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from tests.cli.conftest import Cli
from tests.server.serve_process import ServeProcess


def _me(base_url: str, secret: str) -> requests.Response:
    return requests.get(
        f"{base_url}/v3/keys/me", headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )


def test_keys_on_a_free_library(cli: Cli, library_path: Path) -> None:
    Library.open(library_path).close()
    made = cli(
        "keys",
        "create",
        "--name",
        "ci",
        "--scope",
        "upload",
        "--folder",
        "inbox",
        "--folder",
        "inbox/2026",
        "--expires-days",
        "7",
    )
    assert made.code == 0, made.err
    secret = made.out.strip()
    assert secret.startswith("isk_") and "\n" not in secret  # the secret alone on stdout
    assert "shown only this once" in made.err
    listed = cli("keys", "list")
    assert listed.code == 0
    name, scope, folders, expires, used = listed.out.strip().split("\t")
    assert (name, scope, folders, used) == ("ci", "upload", "inbox,inbox/2026", "unused")
    assert expires.endswith("Z")
    rows = json.loads(cli("keys", "list", "--json").out)
    assert rows[0]["folders"] == ["inbox", "inbox/2026"]
    assert secret not in cli("keys", "list", "--json").out

    again = cli("keys", "create", "--name", "ci", "--scope", "read")
    assert again.code == 1 and "already a key named 'ci'" in again.err
    bad = cli("keys", "create", "--name", "boss", "--scope", "admin", "--folder", "x")
    assert bad.code == 1 and "admin key cannot be limited" in bad.err
    assert cli("keys", "create", "--name", "n", "--scope", "owner").code == 2  # argparse

    assert cli("keys", "revoke", "ci").code == 0
    assert cli("keys", "list").out == ""
    gone = cli("keys", "revoke", "ci")
    assert gone.code == 3 and "no API key named 'ci'" in gone.err
    # A key made here works once a server opens the library.
    secret = cli("keys", "create", "--name", "later", "--scope", "read").out.strip()
    with Library.open(library_path) as library:
        server = BackgroundServer(library, host="127.0.0.1", port=0, token="admin-token-x")
        server.start()
        try:
            assert _me(server.base_url, secret).json()["name"] == "later"
        finally:
            server.stop()


def test_keys_while_a_server_in_this_process_holds_the_library(
    cli: Cli, held: BackgroundServer
) -> None:
    made = cli("keys", "create", "--name", "script", "--scope", "read")
    assert made.code == 0, made.err
    secret = made.out.strip()
    assert _me(held.base_url, secret).json() == {
        "name": "script",
        "scope": "read",
        "folders": None,
        "expires_at": None,
    }
    assert "\tunused" not in cli("keys", "list").out  # its use was noted
    assert cli("keys", "revoke", "script").code == 0
    assert _me(held.base_url, secret).status_code == 401  # at the very next request


def test_keys_while_imageshelf_serve_holds_the_library(cli: Cli, library_path: Path) -> None:
    Library.open(library_path).close()
    serve = ServeProcess(library_path, "--port", "0").start()
    try:
        made = cli("keys", "create", "--name", "remote", "--scope", "edit", "--folder", "a")
        secret = made.out.strip()
        reply = _me(serve.base_url, secret)
        assert reply.status_code == 200 and reply.json()["folders"] == ["a"]
        assert cli("keys", "revoke", "remote").code == 0
        assert _me(serve.base_url, secret).status_code == 401
    finally:
        assert serve.stop() == 0
